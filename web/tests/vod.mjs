// Acceptance 1: register, log in, upload a clip, wait for `ready`, play it: currentTime
// advances, the quality menu lists the rungs, the view is counted.

import {
  api, check, clickButton, expectPlaying, logIn, main, makeClip, newPage, screenshot, signUp, step, textOf, until,
} from "./lib.mjs";

await main(async (browser) => {
  const clip = makeClip({ seconds: 6, size: "1280x720" });
  const page = await newPage(browser, "uploader");

  step("sign up, log out, log in");
  const user = await signUp(page);
  await clickButton(page, "Log out");
  await page.waitForSelector("::-p-xpath(//a[normalize-space()='Log in'])");
  await logIn(page, user.username, user.password);

  step("upload the clip");
  // The header shows the user as soon as the session is set, a moment before the feed replaces the form.
  await (await page.waitForSelector("::-p-xpath(//a[normalize-space()='Upload a video'])")).click();
  await page.waitForSelector("input[name=title]");
  await page.type("input[name=title]", "Test pattern 720p");
  const input = await page.$("input[type=file]");
  await input.uploadFile(clip);
  await screenshot(page, "upload");
  await clickButton(page, "Upload");
  await until("the upload to be ready", async () =>
    (await page.$eval("[data-testid=upload-status]", (e) => e.dataset.status).catch(() => "")) === "ready", 180_000, 500);

  step("play it");
  await page.click("::-p-xpath(//a[normalize-space()='Watch it'])");
  // The quality menu appears once hls.js has read the master playlist; then press play (what a
  // click on the native control does).
  await page.waitForSelector("[data-testid=quality]", { timeout: 30_000 });
  await page.$eval("video", (v) => v.play());
  await expectPlaying(page, "video page", 1.5);
  const videoId = new URL(page.url()).pathname.split("/").pop();
  const video = await api(`/videos/${videoId}`);
  step(`rungs from the API: ${video.variants.join(", ")}`);
  check(video.variants.length >= 2, "a 720p clip has at least two rungs");
  const options = await page.$$eval("[data-testid=quality] option", (os) => os.map((o) => o.textContent));
  step(`quality menu: ${options.join(", ")}`);
  check(options[0] === "Auto", "the menu starts with Auto");
  check(
    JSON.stringify(options.slice(1).sort()) === JSON.stringify([...video.variants].sort()),
    `the menu lists the rungs ${video.variants} (got ${options.slice(1)})`,
  );

  step("choose the lowest rung: playback goes on");
  await page.select("[data-testid=quality]", "0");
  await expectPlaying(page, "after choosing a rung", 0.5);

  step("the view was counted");
  await until("views = 1", async () => (await textOf(page, "[data-testid=views]")) === "1");
  await screenshot(page, "watch");

  step("like and comment");
  await page.click("::-p-xpath(//button[contains(., 'Like')])");
  await until("liked", async () => (await textOf(page, "button[aria-pressed=true]")).includes("(1)"));
  await page.type("input[name=comment]", "Nice test pattern");
  await clickButton(page, "Post");
  await until("the comment is listed", async () =>
    (await textOf(page, "ul[aria-label=Comments]")).includes("Nice test pattern"));

  step("the feed lists it");
  await page.click("::-p-xpath(//a[normalize-space()='Videos'])");
  await until("the feed shows the video", async () =>
    (await textOf(page, "ul[aria-label=Videos]")).includes("Test pattern 720p"));
  await screenshot(page, "feed");
});
