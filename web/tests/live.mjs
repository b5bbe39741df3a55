// Acceptance 2 and 4. A streamer starts a stream in the studio and ffmpeg publishes to the SRT
// URL the studio shows; a viewer in a second context plays the live page (currentTime
// advances, the viewer count reaches 1); chat crosses the contexts both ways. Then the viewer
// tops up with the sandbox provider and donates from the live page: the balances move and the
// donation shows on the streamer's studio page.

import { spawn } from "node:child_process";
import {
  api, check, clickButton, expectPlaying, go, main, newPage, screenshot, signUp, step, textOf, type, until,
} from "./lib.mjs";

function publish(srtUrl) {
  const ffmpeg = spawn("ffmpeg", [
    "-hide_banner", "-loglevel", "warning", "-re",
    "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
    "-t", "300",
    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "25",
    "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", `${srtUrl}&pkt_size=1316`,
  ], { stdio: ["ignore", "inherit", "inherit"] });
  process.on("exit", () => ffmpeg.kill("SIGKILL"));
  return ffmpeg;
}

const tokenOf = (page) => page.evaluate(() => JSON.parse(localStorage.getItem("reelhub.session")).access_token);

await main(async (browser) => {
  step("the streamer creates and starts a stream in the studio");
  const studio = await newPage(browser, "studio");
  const streamer = await signUp(studio, "streamer");
  await studio.click("::-p-xpath(//a[normalize-space()='Studio'])");
  await type(studio, "input[name=stream-title]", "Browser test stream");
  await clickButton(studio, "Create stream");
  await clickButton(studio, "Start stream");
  const srtUrl = await until("the SRT URL", () => studio.$eval("[data-testid=srt-url]", (e) => e.value));
  step(`publishing to ${srtUrl.replace(/passphrase=[^&]+/, "passphrase=…")}`);
  check(srtUrl.startsWith("srt://") && srtUrl.includes("streamid="), "the studio shows an srt:// URL");
  publish(srtUrl);
  await until("the studio shows the stream active", async () =>
    (await textOf(studio, "[data-testid=stream-status]")) === "active", 60_000);
  await until("ingest figures", async () => (await textOf(studio, "[data-testid=ingest]")).includes("Mbit/s"), 30_000);
  await expectPlaying(studio, "studio preview", 1);
  await screenshot(studio, "studio");

  step("a viewer in another context finds it under Live and plays it");
  const viewerPage = await newPage(browser, "viewer");
  const viewer = await signUp(viewerPage);
  await viewerPage.click("::-p-xpath(//a[normalize-space()='Live'])");
  const link = await viewerPage.waitForSelector("::-p-xpath(//a[contains(., 'Browser test stream')])", { timeout: 30_000 });
  await link.click();
  await expectPlaying(viewerPage, "live page", 2);
  await until("the viewer count reaches 1", async () => Number(await textOf(viewerPage, "[data-testid=viewers]")) >= 1);
  const streamId = new URL(viewerPage.url()).pathname.split("/").pop();

  step("chat crosses contexts");
  const streamerLive = await studio.browserContext().newPage();
  await streamerLive.setViewport({ width: 1280, height: 800 });
  await go(streamerLive, `/on-air/${streamId}`);
  await streamerLive.waitForSelector("[data-testid=chat-input]");
  // The chat is live only: wait until both sockets are subscribed before writing.
  await until("both chat panels are ready", async () => {
    const a = await viewerPage.$("[data-testid=chat-input]");
    const b = await streamerLive.$("[data-testid=chat-input]");
    return a && b;
  });
  await new Promise((r) => setTimeout(r, 500));
  await type(viewerPage, "[data-testid=chat-input]", "hello from the viewer");
  await viewerPage.keyboard.press("Enter");
  await until("the streamer sees the viewer's message", async () =>
    (await textOf(streamerLive, "[data-testid=chat-lines]")).includes("hello from the viewer"));
  await type(streamerLive, "[data-testid=chat-input]", "welcome!");
  await streamerLive.keyboard.press("Enter");
  await until("the viewer sees the streamer's answer", async () =>
    (await textOf(viewerPage, "[data-testid=chat-lines]")).includes("welcome!"));
  await screenshot(viewerPage, "live");

  step("the viewer tops up (sandbox) and donates from the live page");
  const earningsBefore = await until("the studio's earnings", () => textOf(studio, "[data-testid=earnings]"));
  const before = await until("the wallet", async () => {
    const t = await textOf(viewerPage, "[data-testid=wallet]");
    return t !== "…" && t;
  });
  await viewerPage.click("::-p-xpath(//button[starts-with(normalize-space(), 'Top up')])");
  await until("the wallet is credited", async () => {
    const t = await textOf(viewerPage, "[data-testid=wallet]");
    return t !== before && t.includes("50");
  });
  await type(viewerPage, "input[name=amount]", "5");
  await type(viewerPage, "input[name=donation-message]", "Great stream");
  await clickButton(viewerPage, "Donate");
  await until("the thank-you", async () => (await textOf(viewerPage, "[role=status]")).includes("Thank you"));
  await until("the wallet shows 45", async () => (await textOf(viewerPage, "[data-testid=wallet]")).includes("45"));

  const viewerBalance = (await api("/payments/balance", { token: await tokenOf(viewerPage) })).balances[0];
  const streamerBalance = (await api("/payments/balance", { token: await tokenOf(studio) })).balances[0];
  step(`balances: viewer wallet ${viewerBalance.wallet}, streamer earnings ${streamerBalance.earnings}`);
  check(viewerBalance.wallet === 4500, "the viewer's wallet went from 5000 to 4500");
  check(streamerBalance.earnings > 0 && streamerBalance.earnings <= 500, "the streamer earned the donation less the fee");

  step("the donation shows on the streamer's pages");
  await until("the studio lists the donation", async () =>
    (await textOf(studio, "[data-testid=donations]")).includes(viewer.username));
  await until("the studio's earnings moved", async () => (await textOf(studio, "[data-testid=earnings]")) !== earningsBefore);
  await until("the streamer's live page lists it", async () =>
    (await textOf(streamerLive, "[data-testid=donations]")).includes("Great stream"));
  await screenshot(studio, "studio-donation");
  check(streamer.username !== viewer.username, "two users");
});
