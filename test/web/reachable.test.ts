import { describe, expect, it } from "vitest";
import { localOnly } from "../../web/src/ui/reachable.ts";

describe("a join link customers' phones cannot open", () => {
  it.each([
    "http://localhost:3000/join/cafe",
    "http://127.0.0.1:3000/join/cafe",
    "http://[::1]:3000/join/cafe",
    "http://10.1.2.3/join/cafe",
    "http://172.16.0.5/join/cafe",
    "http://172.31.255.1/join/cafe",
    "http://192.168.1.20:3000/join/cafe",
    "http://169.254.10.1/join/cafe",
    "http://shop.local/join/cafe",
    "http://app.localhost/join/cafe",
    "http://[fd12:3456::1]/join/cafe",
  ])("is %s", (link) => {
    expect(localOnly(link)).toBe(true);
  });

  it.each([
    "https://loyalty.example.com/join/cafe",
    "http://172.32.0.1/join/cafe",
    "http://172.15.0.1/join/cafe",
    "http://8.8.8.8/join/cafe",
    "https://localhost.example.com/join/cafe",
    "http://[2001:db8::1]/join/cafe",
  ])("is not %s", (link) => {
    expect(localOnly(link)).toBe(false);
  });
});
