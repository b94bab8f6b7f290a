// Manifests read in the browser by the CLI's rules (README, "Importing a catalogue"): the CSV
// reader (quotes, line breaks inside quotes, CRLF, a BOM), every row checked with its line,
// the external ids a row without one gets, and the report's CSV.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { csvField, derivedId, isJsonLines, parseCsv, parseManifest, pastedUrls, reportCsv, sha256Hex, sourceKind, validDate, validExternalId } from "../src/manifest";

describe("the CSV reader", () => {
  it("reads plain and quoted fields, quotes doubled inside them", () => {
    expect(parseCsv('a,b,c\n1,"two, three","say ""hi"""\n')).toEqual({
      records: [
        { line: 1, fields: ["a", "b", "c"] },
        { line: 2, fields: ["1", "two, three", 'say "hi"'] },
      ],
      error: null,
    });
  });

  it("keeps line breaks inside quotes and counts the lines they take", () => {
    const { records } = parseCsv('h1,h2\r\n"first\r\nsecond",x\r\n"a\nb\nc",y\nlast,z');
    expect(records).toEqual([
      { line: 1, fields: ["h1", "h2"] },
      { line: 2, fields: ["first\r\nsecond", "x"] },
      { line: 4, fields: ["a\nb\nc", "y"] },
      { line: 7, fields: ["last", "z"] },
    ]);
  });

  it("skips a BOM and empty lines, keeps empty fields, and reads a lone CR as a line end", () => {
    expect(parseCsv('\uFEFF"source",title\n\n,\r"x",\r').records).toEqual([
      { line: 1, fields: ["source", "title"] },
      { line: 3, fields: ["", ""] },
      { line: 4, fields: ["x", ""] },
    ]);
    expect(parseCsv("").records).toEqual([]);
    expect(parseCsv("only").records).toEqual([{ line: 1, fields: ["only"] }]);
  });

  it("takes a quote inside an unquoted field, or after a closing one, as it is", () => {
    expect(parseCsv('a"b,"c"d,""\n').records[0].fields).toEqual(['a"b', "cd", ""]);
  });

  it("names the line of a quoted field never closed, keeping the records before it", () => {
    expect(parseCsv('h\nok\n"open\nstill\n')).toEqual({ records: [{ line: 1, fields: ["h"] }, { line: 2, fields: ["ok"] }], error: { line: 3 } });
  });

  it("writes what it reads back", () => {
    for (const v of ["plain", "a,b", 'say "x"', "two\nlines", "", " spaced "]) {
      expect(parseCsv(`${csvField(v)},end\n`).records[0].fields).toEqual([v, "end"]);
    }
    expect(csvField("plain")).toBe("plain");
    expect(csvField('a"b')).toBe('"a""b"');
  });
});

describe("a CSV manifest", () => {
  const manifest = [
    "source,external_id,title,tags,original_date,privacy,captions,thumbnail",
    'https://media.example.org/ep-12.mp4,archive/ep-12,"Заповедник «Кедровая падь», выпуск ""12""",природа| архив ||,2019-05-01,Unlisted,ru=subs/ru.vtt,thumbs/12.jpg',
    "https://media.example.org/ep-11.mp4,,Выпуск 11,,2018-03-04T10:00:00Z,,,",
    "s3://archive/old/ep-10.mp4,archive/ep-10,,,,private,,",
    "clips/ep-9.mp4,archive/ep-9,Local,,,,,",
    "https://media.example.org/ep-8.mp4,archive/ep-8,Bad date,,01.05.2019,,,",
    "https://media.example.org/ep-7.mp4,archive/ep-7,Bad privacy,,,friends,,",
    ",archive/ep-6,No source,,,,,",
    "ftp://media.example.org/ep-5.mp4,,FTP,,,,,",
    "https://media.example.org/ep-4.mp4,,Too few fields",
    "https://media.example.org/ep-3.mp4,archive/ep-3,Bad captions,,,,ru:subs.vtt,",
  ].join("\n");

  it("gives each row its line, what to send, or why not", () => {
    const rows = parseManifest("catalogue.csv", manifest);
    expect(rows.map((r) => [r.line, r.kind === "remote" ? "remote" : r.code])).toEqual([
      [2, "remote"],
      [3, "remote"],
      [4, "remote"],
      [5, "local_file"],
      [6, "bad_date"],
      [7, "bad_privacy"],
      [8, "missing_source"],
      [9, "bad_source"],
      [10, "bad_row"],
      [11, "bad_captions"],
    ]);
    expect(rows[0]).toEqual({
      kind: "remote",
      line: 2,
      external_id: "archive/ep-12",
      body: {
        url: "https://media.example.org/ep-12.mp4",
        external_id: "archive/ep-12",
        title: "Заповедник «Кедровая падь», выпуск \"12\"",
        tags: ["природа", "архив"],
        original_date: "2019-05-01",
        privacy: "unlisted",
      },
      unsent: ["captions", "thumbnail"],
    });
    // Without an external id, the source as written is the id (as `kadr import` makes it).
    expect(rows[1]).toMatchObject({ external_id: "https://media.example.org/ep-11.mp4", body: { original_date: "2018-03-04T10:00:00Z", title: "Выпуск 11" }, unsent: [] });
    expect(rows[2]).toMatchObject({ kind: "remote", body: { url: "s3://archive/old/ep-10.mp4", privacy: "private" } });
    expect(rows[2].kind === "remote" && "title" in rows[2].body).toBe(false);
    expect(rows[3]).toMatchObject({ external_id: "archive/ep-9", vars: { source: "clips/ep-9.mp4" } });
    expect(rows[4]).toMatchObject({ external_id: "archive/ep-8", vars: { value: "01.05.2019" } });
    expect(rows[5]).toMatchObject({ vars: { value: "friends" } });
    expect(rows[8]).toMatchObject({ vars: { fields: "3", columns: "8" } });
  });

  it("refuses every row under an unknown or repeated column, or without a source column", () => {
    for (const [head, column] of [
      ["source,titel", "titel"],
      ["source,title,Title", "title"],
    ]) {
      const rows = parseManifest("m.csv", `${head}\nhttps://a.example/1.mp4,x\nhttps://a.example/2.mp4,y\n`);
      expect(rows.map((r) => r.kind === "bad" && [r.line, r.code, r.vars.column])).toEqual([
        [2, "unknown_column", column],
        [3, "unknown_column", column],
      ]);
    }
    expect(parseManifest("m.csv", "title\nA\n")).toMatchObject([{ line: 2, code: "missing_source" }]);
  });

  it("refuses every row of an external id given twice, naming the others", () => {
    const rows = parseManifest("m.csv", "source,external_id\nhttps://a.example/1.mp4,same\nhttps://a.example/2.mp4,other\nhttps://a.example/3.mp4,same\nhttps://a.example/2.mp4,\nhttps://a.example/3.mp4,same\n");
    expect(rows.map((r) => (r.kind === "bad" ? `${r.line} ${r.code} ${r.vars.lines}` : `${r.line} ok`))).toEqual([
      "2 duplicate_external_id 4, 6",
      "3 ok",
      "4 duplicate_external_id 2, 6",
      "5 ok",
      "6 duplicate_external_id 2, 4",
    ]);
  });

  it("reports a quoted field never closed on its line, after the rows before it", () => {
    const rows = parseManifest("m.csv", 'source,title\nhttps://a.example/1.mp4,ok\nhttps://a.example/2.mp4,"open\n');
    expect(rows.map((r) => [r.line, r.kind === "bad" ? r.code : "ok"])).toEqual([
      [2, "ok"],
      [3, "bad_row"],
    ]);
  });
});

describe("a JSON Lines manifest", () => {
  it("reads one object a line, by the same rules", () => {
    const text = [
      '{"source": "clips/ep-12.mp4", "external_id": "archive/ep-12", "title": "Заповедник", "tags": ["природа", "архив"], "captions": {"ru": "subs/ep-12.ru.vtt"}}',
      "",
      '{"source": "s3://archive/old-bucket/ep-10.mp4", "external_id": "archive/ep-10", "privacy": "unlisted", "tags": [" a ", ""]}',
      '{"source": "https://a.example/x.mp4", "titel": "typo"}',
      "not json",
      '["an", "array"]',
      '{"source": "https://a.example/y.mp4", "tags": "not a list"}',
      '{"source": "https://a.example/z.mp4", "original_date": "2019-02-30", "external_id": "z"}',
      '{"source": "https://a.example/w.mp4", "captions": {"r u": "x.vtt"}}',
    ].join("\n");
    expect(isJsonLines("catalogue.jsonl", text)).toBe(true);
    const rows = parseManifest("catalogue.jsonl", text);
    expect(rows.map((r) => [r.line, r.kind === "remote" ? "remote" : r.code])).toEqual([
      [1, "local_file"],
      [3, "remote"],
      [4, "unknown_key"],
      [5, "bad_json"],
      [6, "bad_json"],
      [7, "bad_json"],
      [8, "bad_date"],
      [9, "bad_captions"],
    ]);
    expect(rows[1]).toMatchObject({ body: { url: "s3://archive/old-bucket/ep-10.mp4", privacy: "unlisted", tags: ["a"] }, unsent: [] });
    expect(rows[2]).toMatchObject({ vars: { key: "titel" } });
    expect(rows[6]).toMatchObject({ external_id: "z" });
  });

  it("is told from CSV by the file's extension, else by its first character", () => {
    expect(isJsonLines("a.ndjson", "source\n")).toBe(true);
    expect(isJsonLines("a.csv", '{"source": 1}')).toBe(false);
    expect(isJsonLines("manifest", '\uFEFF {"source": "x"}')).toBe(true);
    expect(isJsonLines("manifest", "source,title")).toBe(false);
  });
});

describe("the checks of a row", () => {
  it("dates: YYYY-MM-DD or RFC 3339, and a day that exists", () => {
    for (const ok of ["2019-05-01", "2020-02-29", "2019-05-01T10:00:00Z", "2019-05-01t10:00:00.5+03:00", "2019-05-01 23:59:60-01:30"]) expect(validDate(ok), ok).toBe(true);
    for (const bad of ["01.05.2019", "2019-13-01", "2019-02-29", "2019-05-01T10:00Z", "2019-05-01T24:00:00Z", "2019-5-1", "", "2019-05-01T10:00:00"]) expect(validDate(bad), bad).toBe(false);
  });

  it("sources: http(s) and s3 URLs for the server, paths for the CLI, other schemes refused", () => {
    expect(sourceKind("https://a.example/x.mp4")).toBe("remote");
    expect(sourceKind("HTTP://a.example/x.mp4")).toBe("remote");
    expect(sourceKind("s3://archive/bucket/key.mp4")).toBe("remote");
    expect(sourceKind("clips/a.mp4")).toBe("local");
    expect(sourceKind("C:/clips/a.mp4")).toBe("local");
    expect(sourceKind("ftp://a.example/x")).toBeNull();
    expect(sourceKind("https://")).toBeNull();
  });

  it("external ids: 1 to 200 characters without control characters, else a digest of the source", () => {
    expect(validExternalId("a".repeat(200))).toBe(true);
    expect(validExternalId("a".repeat(201))).toBe(false);
    expect(validExternalId("ёж".repeat(100))).toBe(true);
    expect(validExternalId("a\tb")).toBe(false);
    expect(validExternalId("  ")).toBe(false);
    expect(derivedId("https://a.example/x.mp4")).toBe("https://a.example/x.mp4");
    const long = `https://a.example/${"x".repeat(300)}`;
    expect(derivedId(long)).toBe(`sha256:${createHash("sha256").update(long).digest("hex")}`);
  });

  it("SHA-256 as FIPS 180-4 has it, over UTF-8 and across block boundaries", () => {
    for (const text of ["", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "Заповедник «Кедровая падь»", "x".repeat(55), "x".repeat(56), "x".repeat(64), "y".repeat(1000)]) {
      expect(sha256Hex(text), text.slice(0, 20)).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
    }
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("pasted URLs: one a line, blank lines skipped, each with its line", () => {
    expect(pastedUrls(" https://a.example/1.mp4 \r\n\n\thttp://127.0.0.1:1/x\n")).toEqual([
      { line: 1, url: "https://a.example/1.mp4" },
      { line: 3, url: "http://127.0.0.1:1/x" },
    ]);
  });
});

describe("the report", () => {
  it("has the CLI's columns, a line per row, fields quoted where they must be", () => {
    const csv = reportCsv([
      { line: "2", external_id: "archive/ep-12", video_id: "0190-aa", status: "imported", code: "", message: "" },
      { line: "3", external_id: "a,b", video_id: "", status: "failed", code: "bad_date", message: 'original_date "01.05.2019" is not a date' },
      { line: "", external_id: "", video_id: "0190-bb", status: "queued", code: "", message: "Выпуск\n2" },
    ]);
    expect(csv).toBe(
      "line,external_id,video_id,status,code,message\n" +
        "2,archive/ep-12,0190-aa,imported,,\n" +
        '3,"a,b",,failed,bad_date,"original_date ""01.05.2019"" is not a date"\n' +
        ',,0190-bb,queued,,"Выпуск\n2"\n',
    );
    // And it reads back as it was written.
    const { records } = parseCsv(csv);
    expect(records.map((r) => r.fields.length)).toEqual([6, 6, 6, 6]);
    expect(records[3].fields[5]).toBe("Выпуск\n2");
  });
});
