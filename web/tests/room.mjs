// Acceptance 3: two contexts in one watch-together room. The host seeks and plays; 3 s later
// the guest's player is within 0.5 s of the host's (docs/realtime.md's correction policy).

import {
  apiUser, check, clickButton, currentTime, go, logIn, main, makeClip, newPage, screenshot, step, textOf, type,
  until, uploadReady,
} from "./lib.mjs";

await main(async (browser) => {
  step("set-up over the API: two users, a ready 30 s clip");
  const [hostUser, guestUser] = await Promise.all([apiUser(), apiUser()]);
  const video = await uploadReady(hostUser, makeClip({ seconds: 30, size: "640x360" }), "Room clip");

  const host = await newPage(browser, "host");
  const guest = await newPage(browser, "guest");
  await logIn(host, hostUser.username, hostUser.password);
  await logIn(guest, guestUser.username, guestUser.password);

  step("the host opens the video and starts a room");
  await go(host, `/watch/${video.id}`);
  await clickButton(host, "Watch together");
  await until("the host is in the room", () => host.url().includes("/room/"), 15_000);
  const roomPath = new URL(host.url()).pathname;
  await host.waitForSelector("video");

  step("the guest joins by the room's link");
  await go(guest, roomPath);
  await guest.waitForSelector("video");
  await until("the host sees the guest", async () => (await textOf(host, "[data-testid=participants]")).includes(guestUser.username));
  check((await textOf(guest, "[data-testid=participants]")).includes(hostUser.username), "the guest sees the host");

  step("the host seeks to 12 s and plays");
  await type(host, "input[name=position]", "12");
  await clickButton(host, "Seek");
  await clickButton(host, "Play");
  await new Promise((r) => setTimeout(r, 3000));
  const [h, g] = await Promise.all([currentTime(host), currentTime(guest)]);
  step(`after 3 s: host ${h.toFixed(3)} s, guest ${g.toFixed(3)} s, apart ${Math.abs(h - g).toFixed(3)} s`);
  check(h > 12, "the host's player plays from the seek");
  check(Math.abs(h - g) < 0.5, "the guest is within 0.5 s of the host");
  await screenshot(host, "room-host");
  await screenshot(guest, "room-guest");

  step("room chat crosses contexts");
  await type(guest, "[data-testid=chat-input]", "synced!");
  await guest.keyboard.press("Enter");
  await until("the host sees the guest's message", async () => (await textOf(host, "[data-testid=chat-lines]")).includes("synced!"));
});
