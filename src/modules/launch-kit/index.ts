/**
 * The launch kit: what a business prints to get its first members — a poster with the program in
 * one sentence and a QR code of the join link, in the customers' language, and a script for the
 * staff at the counter.
 */
export { POSTER_LOCALES, type PosterLocale, posterLocale } from "./messages.ts";
export { launchBonus, type OfferRule, pointsPerVisit, type SignupGift, signupGifts } from "./offers.ts";
export { POSTER_SIZES, type PosterInput, type PosterSize, renderPoster } from "./poster.ts";
export { describeProgram, type ProgramFacts, type ProgramSentence } from "./program.ts";
export { qrModules } from "./qr.ts";
export { type ScriptFacts, staffScript } from "./staff-script.ts";
