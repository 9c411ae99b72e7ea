import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { ImportFileError } from "../../src/cli/import.ts";
import { readCsvFile } from "../../src/cli/import-csv.ts";

const dir = mkdtempSync(join(tmpdir(), "regulars-changed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("says the file changed while it was read when text appended after the first reading is not valid", () => {
  const path = join(dir, "growing.csv");
  writeFileSync(path, "external_id,name,marketing_consent\nm1,Anna,yes\nm2,Bea,yes\n");
  const read = () =>
    readCsvFile(
      path,
      {
        allowed: ["external_id", "name", "marketing_consent"],
        required: [],
        maxBytes: 1_000_000,
        chunkBytes: 8,
      },
      {
        // A till still writing its export: a line in another code page arrives after the checks.
        header: () => appendFileSync(path, Buffer.from("m3,\xa3ukasz,yes\n", "latin1")),
        row: () => {},
        refuse: () => {},
      },
    );
  let error: unknown;
  try {
    read();
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(ImportFileError);
  expect((error as Error).message).toMatch(
    /growing\.csv changed while it was read .*run the import again; rows already imported are skipped\.$/,
  );
});
