// Debian's Chromium, headless, quiet (no background networking, updates or sync): the flags every
// browser test and the screen benchmark launch it with. Never `npx playwright install`.
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
];
