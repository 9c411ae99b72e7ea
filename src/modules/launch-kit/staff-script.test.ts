import { describe, expect, it } from "vitest";
import {
  describeProgram,
  launchBonus,
  type OfferRule,
  type ProgramFacts,
  pointsPerVisit,
  signupGifts,
  staffScript,
} from "./index.ts";

const now = new Date("2026-05-01T10:00:00Z");
const day = 24 * 3600 * 1000;
let next = 0;
const rule = (fields: Partial<OfferRule>): OfferRule => ({
  id: `r${++next}`,
  name: "Rule",
  trigger: "purchase",
  stop_processing: false,
  conditions: {},
  effect: { type: "fixed_points", points: 10 },
  starts_at: null,
  ends_at: null,
  active: true,
  ...fields,
});
const card = "00000000-0000-4000-8000-000000000001";
const program = { pointsEnabled: true, stampCardIds: [card] };

describe("points per visit", () => {
  it("adds the unconditional fixed points of purchase rules in force, as the evaluator applies them", () => {
    expect(pointsPerVisit([rule({})], true, now)).toBe(10);
    expect(pointsPerVisit([rule({}), rule({ effect: { type: "fixed_points", points: 5 } })], true, now)).toBe(
      15,
    );
    // Points off: rules give none.
    expect(pointsPerVisit([rule({})], false, now)).toBe(0);
  });

  it("leaves out what is not every visit's: conditions, other effects and triggers, dates", () => {
    const not = [
      rule({ conditions: { min_spend_minor: 500 } }),
      rule({ conditions: { days_of_week: [1] } }),
      rule({ effect: { type: "points_per_spend", points: 1, per_minor: 100, scope: "order" } }),
      rule({ effect: { type: "stamps", stamp_card_id: card, stamps: 1 } }),
      rule({ trigger: "signup" }),
      rule({ starts_at: new Date(now.getTime() + day) }),
      rule({ ends_at: new Date(now.getTime() + day) }),
      rule({ active: false }),
    ];
    expect(pointsPerVisit(not, true, now)).toBe(0);
    expect(pointsPerVisit([...not, rule({ starts_at: new Date(now.getTime() - day) })], true, now)).toBe(10);
  });

  it("stops where a rule stops the rules after it", () => {
    expect(pointsPerVisit([rule({ stop_processing: true }), rule({})], true, now)).toBe(10);
    // A conditional rule that stops the rest may hold: what follows it is no promise.
    expect(
      pointsPerVisit(
        [rule({ conditions: { min_spend_minor: 1 }, stop_processing: true }), rule({})],
        true,
        now,
      ),
    ).toBe(0);
  });
});

describe("gifts for joining", () => {
  const welcome = rule({
    trigger: "signup",
    name: "Welcome",
    effect: { type: "stamps", stamp_card_id: card, stamps: 1 },
  });
  const launch = rule({
    trigger: "signup",
    name: "Launch bonus",
    effect: { type: "fixed_points", points: 50 },
    starts_at: now,
    ends_at: new Date(now.getTime() + 7 * day),
  });

  it("are the unconditional signup rules in force that give something", () => {
    const gifts = signupGifts(
      [
        welcome,
        launch,
        rule({ trigger: "signup", conditions: { member_attributes: [{ key: "vip", op: "exists" }] } }),
        rule({ trigger: "signup", ends_at: now }),
        rule({ trigger: "signup", effect: { type: "stamps", stamp_card_id: "archived", stamps: 3 } }),
      ],
      program,
      now,
    );
    expect(gifts.map((g) => [g.name, g.points, g.stamps])).toEqual([
      ["Welcome", 0, 1],
      ["Launch bonus", 50, 0],
    ]);
    expect(signupGifts([launch], { ...program, pointsEnabled: false }, now)).toEqual([]);
  });

  it("name as the launch bonus a signup rule with an end not yet reached, also one still to start", () => {
    expect(launchBonus([welcome, launch], program, now)).toMatchObject({ rule_id: launch.id, points: 50 });
    const later = { ...launch, starts_at: new Date(now.getTime() + day) };
    expect(launchBonus([later], program, now)).toMatchObject({ rule_id: launch.id });
    expect(launchBonus([welcome, { ...launch, ends_at: now }], program, now)).toBeNull();
    expect(launchBonus([launch], { ...program, pointsEnabled: false }, now)).toBeNull();
  });
});

describe("the staff script", () => {
  const cafe: ProgramFacts = {
    currency: "EUR",
    points: { enabled: false, earn_points: 0, earn_per_minor: 100 },
    pointsPerVisit: 0,
    tierMetric: "visits",
    stampCards: [{ id: card, name: "Koffiekaart", stamps_required: 8 }],
    tiers: [],
    rewards: [{ name: "Gratis koffie", cost_points: null, stamp_card_id: card, active: true }],
  };
  const gifts = signupGifts(
    [
      rule({ trigger: "signup", effect: { type: "stamps", stamp_card_id: card, stamps: 1 } }),
      rule({
        trigger: "signup",
        effect: { type: "stamps", stamp_card_id: card, stamps: 2 },
        starts_at: now,
        ends_at: new Date("2026-05-08T10:00:00Z"),
      }),
    ],
    program,
    now,
  );
  const facts = { gifts, stamps: true, points: false, timeZone: "Europe/Amsterdam" };

  it("invites, tells the program, the gifts for joining now and until when, how to join and what next", () => {
    expect(staffScript("en", describeProgram("en", cafe), facts)).toEqual([
      "Do you know our loyalty program? Joining is free, takes a minute and needs no app.",
      "Collect 8 stamps and get Gratis koffie.",
      "When you join, you get 1 stamp as a welcome gift.",
      "Join before May 8, 2026 at 12:00 PM and you get 2 stamps as a launch gift.",
      "Just scan the QR code on our poster with your phone camera and fill in your name and your email or phone number.",
      "Next time, show the QR code on your card at the counter and we add your stamps.",
    ]);
  });

  it("speaks the business's language, with its plurals and dates", () => {
    const nl = staffScript("nl", describeProgram("nl", cafe), facts);
    expect(nl).toContain("Als je lid wordt, krijg je 1 stempel als welkomstcadeau.");
    expect(nl).toContain("Word je lid vóór 8 mei 2026 om 12:00, dan krijg je 2 stempels als startcadeau.");
    const pl = staffScript("pl", describeProgram("pl", cafe), facts);
    expect(pl).toContain("Po dołączeniu otrzymasz na powitanie 1 pieczątkę.");
    expect(pl).toContain("Dołącz przed 8 maja 2026 12:00, a na start otrzymasz 2 pieczątki.");
    expect(pl.at(-1)).toBe(
      "Przy następnej wizycie pokaż przy kasie kod QR ze swojej karty, a dodamy Ci pieczątki.",
    );
    const pt = staffScript("pt-BR", describeProgram("pt-BR", cafe), facts);
    expect(pt[1]).toBe("Junte 8 selos e ganhe Gratis koffie.");
    expect(pt).toContain("Ao se cadastrar, você ganha 1 selo de boas-vindas.");
  });

  it("tells a gym's points per visit and its tiers, and no gift when there is none", () => {
    const gym: ProgramFacts = {
      ...cafe,
      points: { enabled: true, earn_points: 0, earn_per_minor: 100 },
      pointsPerVisit: 10,
      stampCards: [],
      rewards: [],
      tiers: [{ name: "Champion", rank: 1, threshold: 60 }],
    };
    expect(
      staffScript("en", describeProgram("en", gym), {
        gifts: [],
        stamps: false,
        points: true,
        timeZone: "UTC",
      }),
    ).toEqual([
      "Do you know our loyalty program? Joining is free, takes a minute and needs no app.",
      "Earn 10 points every visit.",
      "Reach Champion for extra benefits.",
      "Just scan the QR code on our poster with your phone camera and fill in your name and your email or phone number.",
      "Next time, show the QR code on your card at the counter and we add your points.",
    ]);
  });
});
