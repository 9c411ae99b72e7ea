/**
 * Rewards: the catalog a business offers (discounts, free products, experiences, perks,
 * donations), paid with points or a full stamp card, and the single-use vouchers a redemption
 * issues. Paying and refunding are done by the use cases in src/use-cases/redemptions.ts.
 */
export {
  availableRewards,
  pickAvailable,
  REWARD_CANDIDATES_TEXT,
  type RewardCandidate,
  rewardCandidatesSql,
} from "./available.ts";
export {
  archiveReward,
  createReward,
  createRewardInTx,
  getRedeemableReward,
  getReward,
  listRewards,
  MAX_ACTIVE_REWARDS,
  type RewardDto,
  returnStock,
  takeStock,
  updateReward,
} from "./catalog.ts";
export {
  MAX_COST_POINTS,
  RewardInput,
  RewardPatch,
  RewardType,
  RewardValue,
  RewardValues,
} from "./schema.ts";
export {
  assertUsable,
  countHeldVouchers,
  getVoucher,
  issueVoucher,
  listMemberVouchers,
  lockVoucher,
  markVoucherRedeemed,
  markVoucherVoided,
  normalizeCode,
  VOUCHER_CODE_LENGTH,
  type VoucherDto,
  type VoucherStatus,
  voucherById,
} from "./vouchers.ts";
