// The real-time page refreshes its figures by itself: every few seconds it fetches them from
// the same origin (data-src, HTML rendered and escaped by the server) and puts in what changed.
// The page is complete without this script; a Refresh link reloads it.
(function () {
  'use strict';
  var box = document.getElementById('live');
  if (!box || !window.fetch || !window.DOMParser) return;
  var src = box.getAttribute('data-src');
  var every = parseInt(box.getAttribute('data-every'), 10) || 5000;
  var status = document.getElementById('live-status');
  var timer = null, failures = 0, busy = false, stopped = false;

  function schedule(ms) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(poll, ms);
  }

  function stop() {
    stopped = true;
    clearTimeout(timer);
    if (status) status.textContent = box.getAttribute('data-stopped') || '';
  }

  // Counters: only the numbers that changed, so a screen reader hears those (aria-live).
  function counters(fresh) {
    fresh.querySelectorAll('[data-counter]').forEach(function (el) {
      var cur = box.querySelector('[data-counter="' + el.getAttribute('data-counter') + '"]');
      if (cur && cur.textContent !== el.textContent) cur.textContent = el.textContent;
    });
  }

  // Visits: newest first as the server sends them; a visit that did not change keeps its node,
  // so an opened list of actions stays open.
  function visits(fresh) {
    var next = fresh.querySelector('#live-visits');
    var cur = box.querySelector('#live-visits');
    if (!next || !cur) return;
    var nextList = next.querySelector('ol'), curList = cur.querySelector('ol');
    if (!nextList || !curList) {
      if (next.innerHTML !== cur.innerHTML) cur.replaceWith(document.importNode(next, true));
      return;
    }
    var old = {};
    curList.querySelectorAll(':scope > li[data-visit]').forEach(function (li) { old[li.getAttribute('data-visit')] = li; });
    var items = [];
    nextList.querySelectorAll(':scope > li[data-visit]').forEach(function (li) {
      var was = old[li.getAttribute('data-visit')];
      if (was && was.getAttribute('data-sig') === li.getAttribute('data-sig')) {
        items.push(was);
        return;
      }
      var node = document.importNode(li, true);
      var open = was && was.querySelector('details[open]');
      var det = node.querySelector('details');
      if (open && det) det.open = true;
      items.push(node);
    });
    var same = items.length === curList.children.length && items.every(function (n, i) { return curList.children[i] === n; });
    if (!same) curList.replaceChildren.apply(curList, items);
  }

  function apply(html) {
    var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('live-body');
    if (!fresh) throw new Error('no figures in the answer');
    counters(fresh);
    visits(fresh);
    var when = fresh.querySelector('#live-updated'), cur = box.querySelector('#live-updated');
    if (when && cur) {
      cur.textContent = when.textContent;
      cur.setAttribute('datetime', when.getAttribute('datetime'));
    }
  }

  function poll() {
    if (busy || stopped) return;
    if (document.hidden) return; // resumed when the page is shown again
    busy = true;
    // A redirect means the session ended (to the sign-in page): stop rather than show it.
    fetch(src, { credentials: 'same-origin', redirect: 'error', cache: 'no-store', headers: { 'Accept': 'text/html' } })
      .then(function (res) {
        if (res.status === 403 || res.status === 404) {
          stop();
          return null;
        }
        if (!res.ok) throw new Error('status ' + res.status);
        return res.text();
      })
      .then(function (html) {
        busy = false;
        if (html === null) return;
        apply(html);
        failures = 0;
        if (status) status.textContent = '';
        schedule(every);
      })
      .catch(function () {
        busy = false;
        failures++;
        if (failures >= 5) {
          stop();
          return;
        }
        schedule(every * Math.pow(2, failures)); // back off while the server is unreachable
      });
  }

  document.addEventListener('visibilitychange', function () {
    if (document.hidden) clearTimeout(timer);
    else schedule(0);
  });
  schedule(every);
})();
