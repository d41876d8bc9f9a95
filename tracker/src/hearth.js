// Hearth's JavaScript tracker. It reads the `_paq` command queue that Matomo snippets fill and
// sends Matomo-format tracking requests to the Hearth server it was loaded from (or the one
// `setTrackerUrl` names), and nowhere else. Cookieless unless the site turns cookies on
// (`enableCookies`, or a cookie-consent flow) and, where consent is required, consent was
// given. No eval, no inline code: it runs under a strict Content-Security-Policy.
(function (w, d) {
  'use strict';
  if (w.Hearth) return; // loaded twice (e.g. as hearth.js and matomo.js): the first one serves

  var nav = navigator;
  var loc = w.location;
  var enc = encodeURIComponent;
  var now = function () { return new Date().getTime(); };
  var isFn = function (f) { return typeof f === 'function'; };
  var DOWNLOADS = '7z|aac|apk|arc|arj|asc|asf|asx|avi|azw3|bin|csv|deb|dmg|doc|docx|epub|exe|flv|gif|gz|gzip|hqx|ibooks|jar|jpg|jpeg|js|md5|mobi|mov|movie|mp2|mp3|mp4|mpg|mpeg|msi|msp|odb|odf|odg|ods|odt|ogg|ogv|pdf|phps|png|ppt|pptx|qt|qtm|ra|ram|rar|rpm|rtf|sea|sha|sha1|sig|sit|tar|tbz|tbz2|bz|bz2|tgz|torrent|txt|wav|webm|wma|wmv|wpd|xls|xlsx|xml|xz|z|zip';
  var YEAR = 31536000;

  // The script's own URL gives the default tracker endpoint and the short snippet's settings.
  var me = d.currentScript;
  var base = me && me.src ? me.src.replace(/[^/]*(\?.*)?$/, '') : '';

  function sha1(s) {
    // Cookie names carry a 4-hex hash of domain and path, as Matomo's do (sha1). Small SHA-1
    // over the UTF-8 bytes; only the name depends on it.
    s = unescape(enc(s));
    var words = [], i, j, n = s.length, h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
    for (i = 0; i < n; i++) words[i >> 2] |= s.charCodeAt(i) << (24 - (i % 4) * 8);
    words[n >> 2] |= 0x80 << (24 - (n % 4) * 8);
    words[(((n + 8) >> 6) + 1) * 16 - 1] = n * 8;
    var rol = function (x, c) { return (x << c) | (x >>> (32 - c)); };
    for (i = 0; i < words.length; i += 16) {
      var a = h[0], b = h[1], c = h[2], e = h[3], f = h[4], x = [], t;
      for (j = 0; j < 80; j++) {
        x[j] = j < 16 ? words[i + j] | 0 : rol(x[j - 3] ^ x[j - 8] ^ x[j - 14] ^ x[j - 16], 1);
        t = rol(a, 5) + f + x[j] + (j < 20 ? ((b & c) | (~b & e)) + 0x5a827999
          : j < 40 ? (b ^ c ^ e) + 0x6ed9eba1
            : j < 60 ? ((b & c) | (b & e) | (c & e)) + 0x8f1bbcdc
              : (b ^ c ^ e) + 0xca62c1d6);
        f = e; e = c; c = rol(b, 30); b = a; a = t | 0;
      }
      h[0] += a; h[1] += b; h[2] += c; h[3] += e; h[4] += f;
    }
    return ('0000000' + (h[0] >>> 0).toString(16)).slice(-8);
  }

  function randomHex(n) {
    var out = '', b = new Uint8Array(n);
    (w.crypto || w.msCrypto).getRandomValues(b);
    for (var i = 0; i < n; i++) out += (b[i] < 16 ? '0' : '') + b[i].toString(16);
    return out;
  }

  function getCookie(name) {
    var m = d.cookie.match(new RegExp('(?:^|;)\\s*' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '=([^;]*)'));
    return m ? decodeURIComponent(m[1]) : null;
  }

  function hostOf(url) {
    var a = d.createElement('a');
    a.href = url;
    return a.hostname.toLowerCase();
  }

  function matchesDomain(host, pattern) {
    pattern = pattern.toLowerCase().replace(/^\*?\./, '*.');
    if (pattern.indexOf('/') > 0) pattern = pattern.slice(0, pattern.indexOf('/'));
    if (pattern.slice(0, 2) === '*.') {
      var root = pattern.slice(2);
      return host === root || host.slice(-root.length - 1) === '.' + root;
    }
    return host === pattern;
  }

  function closest(el, test) {
    for (; el && el.nodeType === 1; el = el.parentNode) if (test(el)) return el;
    return null;
  }

  function hasClass(el, names) {
    var cls = ' ' + (el.getAttribute('class') || '') + ' ';
    for (var i = 0; i < names.length; i++) if (cls.indexOf(' ' + names[i] + ' ') >= 0) return true;
    return false;
  }

  function Tracker(url, site) {
    var t = this;
    var trackerUrl = url || (base ? base + 'matomo.php' : '');
    var siteId = site || '';
    var customUrl, title, referrer = d.referrer, userId, visitorId;
    var dims = {}, cart = {}, productView = null, excluded = [];
    var pvId = '', firstPageView = true, lastHit = 0;
    var method = 'POST', beacon = true, perf = true;
    var cookiesOn = false, cookiesOff = false, cookieDomain = '', cookiePath = '/', sameSite = 'Lax', secure = false;
    var visitorTimeout = 33955200, sessionTimeout = 1800;
    var consentNeeded = false, consentGiven = false, cookieConsentNeeded = false, cookieConsentGiven = false;
    var dnt = false, waiting = [], batch = [], flushTimer = 0;
    var linkTracking = false, downloadExts = DOWNLOADS, linkClasses = [], downloadClasses = [], ignoreClasses = [], domains = [];
    var heartbeat = 0, spa = false, seenContent = {};

    function dntOn() {
      var v = nav.doNotTrack || w.doNotTrack || nav.msDoNotTrack;
      return dnt && (v === '1' || v === 'yes' || nav.globalPrivacyControl === true);
    }

    // Cookies are set only when the site wants them (enableCookies or a cookie-consent flow),
    // did not disable them, and consent (where required) was given.
    function cookiesAllowed() {
      if (cookiesOff || dntOn() || !(cookiesOn || cookieConsentNeeded)) return false;
      if (consentNeeded && !consentGiven) return false;
      if (cookieConsentNeeded && !cookieConsentGiven && !consentGiven) return false;
      return true;
    }

    function cookieName(n) {
      return '_pk_' + n + '.' + siteId + '.' + sha1((cookieDomain || loc.hostname) + cookiePath).slice(0, 4);
    }

    function setCookie(name, value, seconds) {
      var c = name + '=' + enc(value) + ';path=' + cookiePath + ';SameSite=' + sameSite;
      if (seconds) c += ';expires=' + new Date(now() + seconds * 1000).toUTCString();
      if (cookieDomain) c += ';domain=' + cookieDomain;
      if (secure || sameSite.toLowerCase() === 'none') c += ';secure';
      d.cookie = c;
    }

    function deleteCookies() {
      setCookie(cookieName('id'), '', -86400);
      setCookie(cookieName('ses'), '', -86400);
    }

    // The visitor ID: a cookie's when cookies are allowed (Matomo's `_pk_id` = id.created.),
    // otherwise none and the server counts the visit cookielessly.
    function visitor() {
      if (visitorId) return visitorId;
      if (!cookiesAllowed()) return '';
      var v = getCookie(cookieName('id')), id = v && /^[0-9a-f]{16}$/.test(v.split('.')[0]) ? v.split('.')[0] : '';
      var created = v && v.split('.')[1] || Math.floor(now() / 1000);
      if (!id) id = randomHex(8);
      setCookie(cookieName('id'), id + '.' + created + '.', visitorTimeout);
      setCookie(cookieName('ses'), '1', sessionTimeout);
      return id;
    }

    function pageUrl() {
      var u = customUrl || loc.href;
      if (!excluded.length || u.indexOf('?') < 0) return u;
      var hash = u.indexOf('#') >= 0 ? u.slice(u.indexOf('#')) : '';
      var parts = u.slice(0, u.length - hash.length).split('?');
      var kept = parts[1].split('&').filter(function (p) {
        return excluded.indexOf(decodeURIComponent(p.split('=')[0])) < 0;
      });
      return parts[0] + (kept.length ? '?' + kept.join('&') : '') + hash;
    }

    function build(params) {
      var t0 = new Date(), id = visitor(), q = 'idsite=' + enc(siteId) + '&rec=1&r=' + randomHex(3) +
        '&h=' + t0.getHours() + '&m=' + t0.getMinutes() + '&s=' + t0.getSeconds() +
        '&url=' + enc(pageUrl()) + (referrer ? '&urlref=' + enc(referrer) : '') +
        (userId ? '&uid=' + enc(userId) : '') + (id ? '&_id=' + id + '&cookie=1' : '&cookie=0') +
        '&send_image=0&res=' + (w.screen ? screen.width + 'x' + screen.height : '0x0') +
        (pvId ? '&pv_id=' + pvId : '') + ((consentNeeded && consentGiven) || cookieConsentGiven ? '&consent=1' : '');
      for (var k in dims) if (dims[k] !== undefined) q += '&dimension' + k + '=' + enc(dims[k]);
      for (var p in params) if (params[p] !== undefined && params[p] !== null && params[p] !== '') q += '&' + p + '=' + enc(params[p]);
      return q;
    }

    function transmit(list) {
      if (!trackerUrl || !list.length) return;
      var single = list.length === 1 && list[0].length < 2000;
      var target = trackerUrl + (single ? (trackerUrl.indexOf('?') < 0 ? '?' : '&') + list[0] : '');
      var body = single ? '' : JSON.stringify({ requests: list.map(function (r) { return '?' + r; }), send_image: 0 });
      try {
        if (beacon && nav.sendBeacon && nav.sendBeacon(target, body)) return;
      } catch (e) { /* fall back */ }
      if (method === 'GET' && single) {
        new Image(1, 1).src = target;
        return;
      }
      if (w.fetch) {
        w.fetch(target, { method: 'POST', body: body, keepalive: true, credentials: 'omit', mode: 'no-cors' })['catch'](function () {});
        return;
      }
      new Image(1, 1).src = target;
    }

    function flush() {
      clearTimeout(flushTimer);
      flushTimer = 0;
      // With GET (images) every request goes alone; otherwise several go as one bulk request.
      while (batch.length) transmit(batch.splice(0, method === 'GET' && !beacon ? 1 : 50));
    }

    // send queues a request; requests made in one turn of the event loop go out together
    // (one bulk request when there are several). Before consent nothing leaves the page.
    function send(params) {
      if (dntOn() || !siteId) return;
      if (consentNeeded && !consentGiven) {
        waiting.push(params);
        return;
      }
      batch.push(build(params));
      lastHit = now();
      if (!flushTimer) flushTimer = setTimeout(flush, 0);
    }

    function performance() {
      var p = w.performance, n = p && p.getEntriesByType && p.getEntriesByType('navigation')[0];
      if (!perf || !n || !n.loadEventEnd) return {};
      var r = function (x) { return x >= 0 ? Math.round(x) : undefined; };
      return {
        pf_net: r(n.connectEnd - n.fetchStart), pf_srv: r(n.responseStart - n.requestStart),
        pf_tfr: r(n.responseEnd - n.responseStart), pf_dm1: r(n.domInteractive - n.responseEnd),
        pf_dm2: r(n.domComplete - n.domInteractive), pf_onl: r(n.loadEventEnd - n.loadEventStart)
      };
    }

    function trackPageView(customTitle) {
      pvId = randomHex(3);
      var p = firstPageView ? performance() : {};
      firstPageView = false;
      p.action_name = customTitle || title || d.title;
      if (productView) {
        p._pks = productView[0]; p._pkn = productView[1]; p._pkc = productView[2]; p._pkp = productView[3];
      }
      send(p);
    }

    // Links: outlinks to other hosts and downloads by extension, class or `download`
    // attribute, as Matomo's enableLinkTracking classifies them.
    function linkType(a) {
      var href = a.href;
      if (!/^(https?|ftp):/i.test(href) || hasClass(a, ['matomo_ignore', 'piwik_ignore'].concat(ignoreClasses))) return '';
      if (hasClass(a, ['matomo_download', 'piwik_download'].concat(downloadClasses)) || a.hasAttribute('download')) return 'download';
      var path = href.split('#')[0].split('?')[0];
      if (new RegExp('\\.(' + downloadExts + ')$', 'i').test(path)) return 'download';
      if (hasClass(a, ['matomo_link', 'piwik_link'].concat(linkClasses))) return 'link';
      var host = hostOf(href);
      if (host === loc.hostname.toLowerCase()) return '';
      for (var i = 0; i < domains.length; i++) if (matchesDomain(host, domains[i])) return '';
      return 'link';
    }

    var listening = false;
    function listenClicks() {
      if (listening) return;
      listening = true;
      var onClick = function (e) {
        if (e.type === 'auxclick' && e.button !== 1) return;
        var a = closest(e.target, function (el) { return /^(a|area)$/i.test(el.nodeName) && el.href; });
        if (!a) return;
        var type = linkType(a);
        if (type) t.trackLink(a.href, type);
      };
      d.addEventListener('click', onClick, true);
      d.addEventListener('auxclick', onClick, true);
    }

    // Content tracking: blocks marked data-track-content, named by data-content-name.
    function contentOf(node) {
      var piece = node.getAttribute('data-content-piece'), inner;
      if (piece === null) {
        inner = node.querySelector('[data-content-piece]');
        piece = inner ? inner.getAttribute('data-content-piece') || (inner.src || '') : '';
        if (!piece) {
          inner = node.querySelector('img,video,audio,embed,object');
          piece = inner ? inner.src || inner.getAttribute('data') || '' : 'Unknown';
        }
      }
      var target = node.getAttribute('data-content-target'), link;
      if (target === null) {
        link = node.querySelector('[data-content-target]');
        target = link ? link.getAttribute('data-content-target') : '';
        if (!target) {
          link = closest(node, function (el) { return el.nodeName === 'A'; }) || node.querySelector('a[href]');
          target = link ? link.href : '';
        }
      }
      var named = node.hasAttribute('data-content-name') ? node : node.querySelector('[data-content-name]');
      var name = named ? named.getAttribute('data-content-name') : '';
      if (!name) name = piece && piece !== 'Unknown' ? piece : 'Unknown';
      return { c_n: name, c_p: piece, c_t: target };
    }

    function contentNodes(root) {
      root = root || d;
      var list = [].slice.call(root.querySelectorAll('[data-track-content],.matomoTrackContent,.piwikTrackContent'));
      if (root.nodeType === 1 && (root.hasAttribute('data-track-content') || hasClass(root, ['matomoTrackContent', 'piwikTrackContent']))) list.unshift(root);
      return list;
    }

    function impression(node) {
      var c = contentOf(node), key = c.c_n + '\u0000' + c.c_p + '\u0000' + c.c_t;
      if (seenContent[key]) return;
      seenContent[key] = true;
      c.ca = 1;
      send(c);
    }

    var interactionsOn = false;
    function listenInteractions() {
      if (interactionsOn) return;
      interactionsOn = true;
      d.addEventListener('click', function (e) {
        var node = closest(e.target, function (el) { return el.hasAttribute('data-track-content') || hasClass(el, ['matomoTrackContent', 'piwikTrackContent']); });
        if (node && !node.hasAttribute('data-content-ignoreinteraction')) t.trackContentInteractionNode(e.target, 'click');
      }, true);
    }

    function visible(node) {
      var r = node.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 &&
        r.top < (w.innerHeight || d.documentElement.clientHeight) && r.left < (w.innerWidth || d.documentElement.clientWidth) &&
        w.getComputedStyle(node).visibility !== 'hidden';
    }

    function consentCookie(name, hours) {
      setCookie(name, String(now()), hours ? hours * 3600 : 30 * YEAR);
    }

    // The commands. Names and arguments are Matomo's; each is also a method of the tracker
    // object (Matomo.getAsyncTracker()).
    t.setTrackerUrl = function (u) { trackerUrl = String(u); };
    t.getTrackerUrl = function () { return trackerUrl; };
    t.setSiteId = function (id) { siteId = String(id); };
    t.getSiteId = function () { return siteId; };
    t.trackPageView = trackPageView;
    t.enableLinkTracking = function (on) {
      linkTracking = on !== false;
      if (linkTracking) listenClicks();
    };
    t.setDownloadExtensions = function (e) { downloadExts = [].concat(typeof e === 'string' ? e.split('|') : e).join('|'); };
    t.addDownloadExtensions = function (e) { downloadExts += '|' + [].concat(typeof e === 'string' ? e.split('|') : e).join('|'); };
    t.removeDownloadExtensions = function (e) {
      var drop = [].concat(typeof e === 'string' ? e.split('|') : e);
      downloadExts = downloadExts.split('|').filter(function (x) { return drop.indexOf(x) < 0; }).join('|');
    };
    t.setLinkClasses = function (c) { linkClasses = [].concat(c); };
    t.setDownloadClasses = function (c) { downloadClasses = [].concat(c); };
    t.setIgnoreClasses = function (c) { ignoreClasses = [].concat(c); };
    t.setDomains = function (list) { domains = [].concat(list); };
    t.trackLink = function (url, type) {
      var p = {};
      p[type === 'download' ? 'download' : 'link'] = url;
      send(p);
    };
    t.trackEvent = function (category, action, name, value) {
      if (!category || !action) return;
      send({ e_c: category, e_a: action, e_n: name, e_v: value === undefined || value === null || isNaN(+value) ? undefined : +value, ca: 1 });
    };
    t.trackSiteSearch = function (keyword, category, count) {
      pvId = randomHex(3);
      send({ search: keyword, search_cat: category, search_count: count });
    };
    t.trackGoal = function (id, revenue) { send({ idgoal: id, revenue: revenue }); };
    t.setUserId = function (id) { userId = id ? String(id) : ''; };
    t.resetUserId = function () { userId = ''; };
    t.getUserId = function () { return userId; };
    t.setVisitorId = function (id) { if (/^[0-9a-f]{16}$/i.test(id)) visitorId = id.toLowerCase(); };
    t.getVisitorId = function () { return visitor(); };
    t.setCustomDimension = function (id, value) { if (+id > 0) dims[+id] = value === undefined ? '' : String(value); };
    t.deleteCustomDimension = function (id) { delete dims[+id]; };
    t.getCustomDimension = function (id) { return dims[+id]; };
    t.setCustomUrl = function (u) { customUrl = String(u); };
    t.getCurrentUrl = pageUrl;
    t.setDocumentTitle = function (x) { title = String(x); };
    t.setReferrerUrl = function (u) { referrer = String(u); };
    t.setExcludedQueryParams = t.setExcludedQueryParameters = function (list) { excluded = [].concat(list); };
    // Ecommerce: the cart lives in the page until a cart update or an order sends it.
    t.setEcommerceView = function (sku, name, category, price) {
      productView = [sku || '', name || '', category instanceof Array ? JSON.stringify(category) : category || '', price === undefined ? '' : price];
    };
    t.addEcommerceItem = function (sku, name, category, price, quantity) {
      if (!sku) return;
      cart[sku] = [String(sku), name || '', category || '', +price || 0, +quantity || 1];
    };
    t.removeEcommerceItem = function (sku) { delete cart[sku]; };
    t.clearEcommerceCart = function () { cart = {}; };
    t.getEcommerceItems = function () { return Object.keys(cart).map(function (k) { return cart[k]; }); };
    var items = function () { return JSON.stringify(t.getEcommerceItems()); };
    t.trackEcommerceCartUpdate = function (total) { send({ idgoal: 0, revenue: total, ec_items: items() }); };
    t.trackEcommerceOrder = function (id, total, subtotal, tax, shipping, discount) {
      if (!id) return;
      send({ idgoal: 0, ec_id: id, revenue: total, ec_st: subtotal, ec_tx: tax, ec_sh: shipping, ec_dt: discount, ec_items: items() });
      cart = {};
    };
    t.trackAllContentImpressions = function () {
      contentNodes().forEach(impression);
      listenInteractions();
    };
    t.trackContentImpressionsWithinNode = function (node) {
      if (node) contentNodes(node).forEach(impression);
      listenInteractions();
    };
    t.trackVisibleContentImpressions = function () {
      var nodes = contentNodes();
      listenInteractions();
      if (w.IntersectionObserver) {
        var io = new IntersectionObserver(function (entries) {
          entries.forEach(function (e) {
            if (e.isIntersecting) {
              io.unobserve(e.target);
              impression(e.target);
            }
          });
        });
        nodes.forEach(function (n) { io.observe(n); });
      } else {
        nodes.filter(visible).forEach(impression);
      }
    };
    t.trackContentImpression = function (name, piece, target) {
      if (name) send({ c_n: name, c_p: piece || 'Unknown', c_t: target, ca: 1 });
    };
    t.trackContentInteraction = function (interaction, name, piece, target) {
      if (interaction && name) send({ c_i: interaction, c_n: name, c_p: piece || 'Unknown', c_t: target, ca: 1 });
    };
    t.trackContentInteractionNode = function (node, interaction) {
      var block = closest(node, function (el) { return el.hasAttribute('data-track-content') || hasClass(el, ['matomoTrackContent', 'piwikTrackContent']); });
      if (!block) return;
      var c = contentOf(block);
      t.trackContentInteraction(interaction || 'Unknown', c.c_n, c.c_p, c.c_t);
    };
    // Heartbeat: when the page is hidden or loses focus after the visitor stayed at least
    // `delay` seconds since the last request, a ping extends the visit's time.
    t.enableHeartBeatTimer = function (delay) {
      var first = !heartbeat;
      heartbeat = Math.max(+delay || 15, 5) * 1000;
      if (!first) return;
      var ping = function () {
        if (heartbeat && lastHit && now() - lastHit >= heartbeat) {
          send({ ping: 1 });
          flush();
        }
      };
      w.addEventListener('blur', ping);
      d.addEventListener('visibilitychange', function () { if (d.visibilityState === 'hidden') ping(); });
    };
    t.disableHeartBeatTimer = function () { heartbeat = 0; };
    var errorsOn = false;
    t.enableJSErrorTracking = function () {
      if (errorsOn) return;
      errorsOn = true;
      w.addEventListener('error', function (e) {
        t.trackEvent('JavaScript Errors', (e.filename || '') + ':' + (e.lineno || 0) + ':' + (e.colno || 0), e.message || 'Unknown error');
      });
    };
    // Single-page applications: a page view on every history change (new), with the
    // previous URL as referrer.
    t.enableSpaTracking = function () {
      if (spa) return;
      spa = true;
      var last = loc.href;
      var changed = function () {
        setTimeout(function () {
          if (loc.href === last) return;
          referrer = last;
          last = loc.href;
          customUrl = '';
          trackPageView();
        }, 0);
      };
      ['pushState', 'replaceState'].forEach(function (m) {
        var orig = w.history[m];
        if (isFn(orig)) {
          w.history[m] = function () {
            var r = orig.apply(this, arguments);
            changed();
            return r;
          };
        }
      });
      w.addEventListener('popstate', changed);
      w.addEventListener('hashchange', changed);
    };
    // Consent: with requireConsent nothing is sent until consent; what was tracked before
    // goes out then. With requireCookieConsent tracking is cookieless until cookie consent.
    t.requireConsent = function () {
      consentNeeded = true;
      if (getCookie('mtm_consent') && !getCookie('mtm_consent_removed')) t.setConsentGiven();
    };
    t.setConsentGiven = function () {
      consentGiven = true;
      var q = waiting;
      waiting = [];
      q.forEach(send);
    };
    t.rememberConsentGiven = function (hours) {
      consentCookie('mtm_consent', hours);
      setCookie('mtm_consent_removed', '', -86400);
      t.setConsentGiven();
    };
    t.forgetConsentGiven = function () {
      setCookie('mtm_consent', '', -86400);
      consentCookie('mtm_consent_removed', 0);
      deleteCookies();
      consentNeeded = true;
      consentGiven = false;
      waiting = [];
    };
    t.optUserOut = t.forgetConsentGiven;
    t.forgetUserOptOut = function () { setCookie('mtm_consent_removed', '', -86400); };
    t.isUserOptedOut = function () { return !!getCookie('mtm_consent_removed'); };
    t.hasRememberedConsent = function () { return !!getCookie('mtm_consent'); };
    t.requireCookieConsent = function () {
      cookieConsentNeeded = true;
      if (getCookie('mtm_cookie_consent')) cookieConsentGiven = true;
    };
    t.setCookieConsentGiven = function () { cookieConsentGiven = true; };
    t.rememberCookieConsentGiven = function (hours) {
      consentCookie('mtm_cookie_consent', hours);
      cookieConsentGiven = true;
    };
    t.forgetCookieConsentGiven = function () {
      setCookie('mtm_cookie_consent', '', -86400);
      cookieConsentGiven = false;
      deleteCookies();
    };
    t.setDoNotTrack = function (on) {
      dnt = on !== false;
      if (dntOn()) deleteCookies();
    };
    t.enableCookies = function () { cookiesOn = true; cookiesOff = false; };
    t.disableCookies = function () {
      cookiesOff = true;
      if (siteId) deleteCookies();
    };
    t.deleteCookies = deleteCookies;
    t.setSecureCookie = function (on) { secure = !!on; };
    t.setCookieDomain = function (domain) { cookieDomain = String(domain).replace(/^\*/, ''); };
    t.setCookiePath = function (path) { cookiePath = String(path); };
    t.setCookieSameSite = function (s) {
      s = String(s);
      sameSite = /^(lax|strict|none)$/i.test(s) ? s.charAt(0).toUpperCase() + s.slice(1).toLowerCase() : 'Lax';
    };
    t.setVisitorCookieTimeout = function (seconds) { visitorTimeout = +seconds || visitorTimeout; };
    t.setSessionCookieTimeout = function (seconds) { sessionTimeout = +seconds || sessionTimeout; };
    t.disablePerformanceTracking = function () { perf = false; };
    t.setRequestMethod = function (m) { method = String(m).toUpperCase() === 'GET' ? 'GET' : 'POST'; if (method === 'GET') beacon = false; };
    t.alwaysUseSendBeacon = function () { beacon = true; };
    t.disableAlwaysUseSendBeacon = function () { beacon = false; };
    t.trackRequest = function (query) {
      var p = {};
      String(query).split('&').forEach(function (kv) {
        var i = kv.indexOf('=');
        if (i > 0) p[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
      });
      send(p);
    };
    t.ping = function () { send({ ping: 1 }); };
    t.flush = flush;
    w.addEventListener('pagehide', flush);
  }

  // The queue: Matomo applies these commands first, in this order, whatever their place in
  // `_paq`, so that a snippet's trackPageView is sent with the settings pushed after it.
  var FIRST = ['disableCookies', 'requireCookieConsent', 'forgetCookieConsentGiven', 'setDoNotTrack', 'enableCookies',
    'setTrackerUrl', 'setSiteId', 'setCookieNamePrefix', 'setSecureCookie', 'setCookiePath', 'setCookieDomain',
    'setCookieSameSite', 'setVisitorCookieTimeout', 'setSessionCookieTimeout', 'setDomains', 'setUserId', 'setVisitorId',
    'alwaysUseSendBeacon', 'disableAlwaysUseSendBeacon', 'setRequestMethod', 'setCookieConsentGiven', 'requireConsent',
    'setConsentGiven', 'disablePerformanceTracking', 'setExcludedQueryParams', 'setExcludedQueryParameters', 'enableLinkTracking',
    'enableJSErrorTracking'];
  var tracker = new Tracker();

  function apply(cmd) {
    try {
      if (isFn(cmd)) {
        cmd.call(tracker);
        return;
      }
      if (!cmd || !cmd.length) return;
      var name = cmd[0], args = [].slice.call(cmd, 1);
      if (isFn(name)) name.apply(tracker, args);
      else if (typeof name === 'string' && name.charAt(0) !== '_' && isFn(tracker[name])) tracker[name].apply(tracker, args);
      // Unknown commands are ignored: the page keeps working.
    } catch (e) {
      if (w.console && console.error) console.error('hearth: ' + (cmd && cmd[0]) + ': ' + e.message);
    }
  }

  var queued = w._paq instanceof Array ? w._paq : [];
  // The short snippet: <script src=".../hearth.js" data-site="1"> tracks a page view and
  // links unless data-auto="false"; data-cookies="true" turns cookies on and data-dnt="true"
  // honours Do Not Track.
  if (me && me.getAttribute('data-site')) {
    queued.unshift(['setSiteId', me.getAttribute('data-site')]);
    if (me.getAttribute('data-cookies') === 'true') queued.unshift(['enableCookies']);
    if (me.getAttribute('data-dnt') === 'true') queued.unshift(['setDoNotTrack', true]);
    if (me.getAttribute('data-auto') !== 'false') queued.push(['trackPageView'], ['enableLinkTracking']);
  }
  FIRST.forEach(function (name) {
    for (var i = 0; i < queued.length; i++) {
      if (queued[i] && queued[i][0] === name) {
        apply(queued[i]);
        queued[i] = null;
      }
    }
  });
  queued.forEach(function (cmd) { if (cmd) apply(cmd); });
  w._paq = {
    push: function () {
      for (var i = 0; i < arguments.length; i++) apply(arguments[i]);
      return 0;
    }
  };

  var api = {
    getTracker: function (url, site) { return new Tracker(url, site); },
    getAsyncTracker: function () { return tracker; }
  };
  w.Hearth = api;
  if (!w.Matomo) w.Matomo = api;
  if (!w.Piwik) w.Piwik = api;
  if (isFn(w.matomoAsyncInit)) w.matomoAsyncInit();
  if (isFn(w.piwikAsyncInit)) w.piwikAsyncInit();
})(window, document);
