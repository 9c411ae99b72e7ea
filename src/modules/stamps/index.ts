/** Stamp cards and the stamps members collect on them. */
export {
  archiveStampCard,
  createStampCardInTx,
  getStampCard,
  listActiveStampCards,
  listStampCards,
  MAX_ACTIVE_STAMP_CARDS,
  type StampCard,
  type StampCardDto,
  StampCardInput,
  StampCardPatch,
  StampEarnOn,
  stampCardDto,
  stampCardsByIds,
  updateStampCard,
} from "./cards.ts";
