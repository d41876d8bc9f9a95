// Sends hits to Hearth with the npm matomo-tracker client: single GETs and one bulk request.
// Usage: node track.js <tracker-url> <idsite> <token_auth>
'use strict';
const MatomoTracker = require('matomo-tracker');

const [trackerUrl, siteId] = process.argv.slice(2);
const tracker = new MatomoTracker(Number(siteId), trackerUrl);
let failed = false;
tracker.on('error', (err) => { console.error('tracker error:', err); failed = true; });

const ua = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
tracker.track({ url: 'https://clinic.example/node/one', action_name: 'Node One', _id: 'a1b2c3d4e5f60718', ua, lang: 'fr-FR' });
tracker.track({ url: 'https://clinic.example/node/one', e_c: 'Node', e_a: 'Click', e_n: 'Button', e_v: 3, _id: 'a1b2c3d4e5f60718', ua, lang: 'fr-FR' });
tracker.trackBulk([
  { url: 'https://clinic.example/node/bulk-a', action_name: 'Bulk A', _id: '0f0e0d0c0b0a0908', ua },
  { url: 'https://clinic.example/node/bulk-b', action_name: 'Bulk B', _id: '0f0e0d0c0b0a0908', ua },
], (body) => {
  let parsed;
  try { parsed = JSON.parse(body); } catch (e) { console.error('bulk reply not JSON:', body); process.exit(1); }
  console.log(JSON.stringify(parsed));
  // Give the single requests time to finish before exiting.
  setTimeout(() => process.exit(failed ? 1 : 0), 500);
});
