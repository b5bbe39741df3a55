// Acceptance 5: axe-core on every page of the client reports no serious or critical
// violation, at desktop and at phone width; a screenshot of each page at each width.

import {
  api, apiUser, axeViolations, check, go, logIn, main, makeClip, newPage, screenshot, step, until, uploadReady,
} from "./lib.mjs";

const widths = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844, isMobile: true, hasTouch: true } };

await main(async (browser) => {
  step("set-up over the API: a streamer with a ready video, a started stream and a room");
  const streamer = await apiUser("streamer");
  const video = await uploadReady(streamer, makeClip({ seconds: 4, size: "640x360" }), "Accessible clip");
  const stream = await api("/api/streams", { token: streamer.token, json: { name: "Accessible stream" } });
  await api(`/api/streams/${stream.stream_id}/start`, { token: streamer.token, method: "POST" });
  const room = await api("/api/rooms", { token: streamer.token, json: { video_id: video.id } });

  const pages = [
    ["login", "/login", false],
    ["signup", "/signup", false],
    ["feed", "/", true],
    ["upload", "/upload", true],
    ["watch", `/watch/${video.id}`, true],
    ["live-now", "/now", true],
    ["on-air", `/on-air/${stream.stream_id}`, true],
    ["studio", "/studio", true],
    ["rooms", "/rooms", true],
    ["room", `/room/${room.id}`, true],
    ["notifications", "/inbox", true],
  ];
  const failures = [];
  for (const [widthName, viewport] of Object.entries(widths)) {
    const anonymous = await newPage(browser, `anonymous-${widthName}`, viewport);
    const signedIn = await newPage(browser, `signed-in-${widthName}`, viewport);
    await logIn(signedIn, streamer.username, streamer.password);
    for (const [name, path, needsUser] of pages) {
      const page = needsUser ? signedIn : anonymous;
      await go(page, path);
      await page.waitForSelector("main h1");
      // Let the page's data arrive (lists, the player) before judging it.
      await until(`${name} settles`, () => page.evaluate(() => !document.body.textContent.includes("Loading…") &&
        !document.body.textContent.includes("Joining…")), 20_000);
      await new Promise((r) => setTimeout(r, 500));
      const violations = await axeViolations(page);
      step(`${name} (${widthName}): ${violations.length} serious or critical violations`);
      for (const v of violations) failures.push(`${name} (${widthName}): ${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(", ")}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) failures.push(`${name} (${widthName}): the page is ${overflow} px wider than the screen`);
      await screenshot(page, `${name}-${widthName}`);
    }
  }

  step("keyboard: the first Tab reaches the skip link, Enter moves to the content");
  const page = await newPage(browser, "keyboard");
  await go(page, "/login");
  await page.waitForSelector("main h1");
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement?.textContent === "Skip to content"), "Tab focuses the skip link");
  await page.keyboard.press("Enter");
  check(await page.evaluate(() => document.activeElement?.id === "main" || location.hash === "#main"), "Enter skips to main");

  check(failures.length === 0, `accessibility problems:\n${failures.join("\n")}`);
});
