/**
 * The browser example (examples/browser) in headless Chromium: tasks fetch
 * from the example server inside `timeout`, and the Cancel button cancels the
 * main task, which aborts the fetch still running. Ends with a screenshot.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startExampleServer } from "../examples/browser/server.js";
import { hostBinary, launchChromium } from "./hosts/runners.js";

// Runs in the page (playwright serialises the function); the test itself compiles without the DOM library.
declare const document: { querySelectorAll(selector: string): { length: number } };

const chromium = hostBinary("chromium");
const skip = chromium === null && process.env["CI"] !== "true" ? "chromium is not installed (.ci/run installs Debian's chromium)" : false;

test("the browser example: fetches finish or time out, Cancel aborts the one still running, and the page is screenshotted", { skip, timeout: 120_000 }, async () => {
  assert.ok(chromium !== null, "chromium is missing: .ci/run installs Debian's chromium");
  const server = await startExampleServer();
  const browser = await launchChromium(chromium);
  const dir = mkdtempSync(join(tmpdir(), "asyncio-ts-browser-example-"));
  try {
    const page = await browser.newPage({ viewport: { width: 760, height: 460 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.origin}/`);
    await page.click("#start");
    const state = (label: string) => page.locator(`tr:has(td:text-is("${label}")) td.state`);
    // Waits on what the page shows, not on time: the quick and slow fetches answer, the hanging one times out.
    await page.waitForFunction(() => document.querySelectorAll('tr[data-state="done"]').length === 2 && document.querySelectorAll('tr[data-state="timed out"]').length === 1);
    assert.equal(await state("quick").textContent(), "done: quick answered after 0.05 s");
    assert.equal(await state("slow").textContent(), "done: slow answered after 0.3 s");
    assert.equal(await state("too slow").textContent(), "timed out: after 0.5 s");
    assert.equal(await state("waits for Cancel").textContent(), "fetching");
    await page.click("#cancel");
    await page.waitForSelector("body[data-finished=true]");
    assert.equal(await state("waits for Cancel").textContent(), "cancelled");
    assert.equal(await page.locator("#summary").textContent(), "run() ended: the main task was cancelled");
    // The cancellation reached the network: the browser aborted both hanging requests.
    for (let i = 0; i < 50 && server.aborted.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual([...server.aborted].sort(), ["cancel-me", "too-slow"]);
    const shot = join(dir, "browser-example.png");
    await page.screenshot({ path: shot });
    const png = readFileSync(shot);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assert.ok(png.length > 5_000);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
