import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { drawnTexts } from "../helpers/pdf-text.ts";

// What the poster draws for names and rewards typed in any script. The server's fonts are DejaVu
// plus whatever this machine has (fonts-noto-cjk may or may not be installed): these checks hold
// either way; src/modules/launch-kit/*.test.ts pin the fonts down.

let t: TestApp;
afterAll(async () => t?.close());
beforeAll(async () => {
  t = await startTestApp();
});

/** A business with a stamp card whose reward is `reward`, so the headline names it. */
async function shop(name: string, reward: string): Promise<Tenant> {
  const owner = await t.signup({ name, locale: "en" });
  const card = await owner.call("POST", "/v1/stamp-cards", {
    name: "Card",
    stamps_required: 5,
    earn_on: "visit",
  });
  expect(card.status).toBe(201);
  const res = await owner.call("POST", "/v1/rewards", {
    name: reward,
    type: "free_product",
    value: { product_name: "Coffee" },
    stamp_card_id: card.body.id,
  });
  expect(res.status).toBe(201);
  return owner;
}

async function poster(owner: Tenant, size = "a4"): Promise<Buffer> {
  const res = await t.app.inject({
    method: "GET",
    url: `/v1/launch-kit/poster.pdf?size=${size}`,
    headers: { authorization: `Bearer ${owner.token}`, host: "loyalty.example.com" },
  });
  expect(res.statusCode).toBe(200);
  return res.rawPayload;
}

describe("the poster in any script", () => {
  it("draws a name and a reward with CJK and emoji without a box, on one page", async () => {
    const owner = await shop("喫茶 Sakura ☕🎁", "Free coffee ☕🎁");
    for (const size of ["a4", "a5"]) {
      const pdf = await poster(owner, size);
      const texts = drawnTexts(pdf);
      expect(
        texts.flatMap((text) => text.glyphs),
        size,
      ).not.toContain(0);
      expect(texts.map((text) => text.text).join("|")).toContain("Sakura ☕");
      expect(texts.map((text) => text.text).join("")).toContain("get Free coffee ☕");
      expect(pdf.toString("latin1").match(/\/Type \/Page[^s]/g), size).toHaveLength(1);
      expect(pdf.toString("latin1")).toContain(`(http://loyalty.example.com/join/${owner.slug})`);
    }
  });

  it("draws a Hebrew reward in reading order and keeps Latin text in DejaVu", async () => {
    const owner = await shop("Kawiarnia Żółw", "קפה חינם");
    const texts = drawnTexts(await poster(owner));
    expect(texts[0]).toMatchObject({ font: "DejaVuSans-Bold", text: "Kawiarnia Żółw" });
    // Left to right on the page: the second word first, each word's letters reversed.
    expect(texts.map((text) => text.text).join("")).toContain("Collect 5 stamps and get םניח הפק.");
  });
});
