import { describe, expect, it } from "vitest";
import { countryOfTimeZone, PHONE_COUNTRIES } from "../../src/modules/members/phone.ts";
import { localPhoneExample } from "../../web/src/ui/phone.ts";

/** The web app's phone hints show the local form exactly where the API reads one. */
describe("localPhoneExample", () => {
  it("gives the example of the API's rules for every time zone, and none where it reads no local numbers", () => {
    const zones = [...Intl.supportedValuesOf("timeZone"), "Europe/Busingen"];
    for (const zone of zones) {
      const country = countryOfTimeZone(zone);
      expect(localPhoneExample(zone), zone).toBe(
        country ? (PHONE_COUNTRIES[country]?.example ?? null) : null,
      );
    }
    expect(localPhoneExample("Europe/Amsterdam")).toBe("06 12345678");
    expect(localPhoneExample("America/Sao_Paulo")).toBeNull();
  });
});
