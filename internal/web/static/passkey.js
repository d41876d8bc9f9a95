// Passkeys (WebAuthn) on Hearth's account and sign-in pages. Talks to this origin only.
(function () {
  'use strict';

  function toBuffer(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf), bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function post(url, body) {
    var init = { method: 'POST', credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var e = new Error(data.error || 'The server answered ' + r.status + '.');
          e.redirect = data.redirect;
          throw e;
        }
        return data;
      });
    });
  }

  var statusEl = document.getElementById('passkey-status');
  function say(text, isError) {
    if (!statusEl) return;
    statusEl.textContent = text;
    statusEl.className = isError ? 'error' : 'notice';
    statusEl.hidden = false;
  }
  function failed(e) {
    if (e && e.name === 'NotAllowedError') {
      say('The passkey request was cancelled or timed out.', true);
    } else {
      say((e && e.message) || 'The passkey did not work.', true);
    }
    if (e && e.redirect) window.setTimeout(function () { window.location.assign(e.redirect); }, 1500);
  }
  function supported() {
    if (window.PublicKeyCredential && navigator.credentials) return true;
    say('This browser cannot use passkeys here (they need HTTPS, or localhost).', true);
    return false;
  }

  var add = document.getElementById('passkey-add');
  if (add) {
    add.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (!supported()) return;
      var name = document.getElementById('passkey-name').value;
      post('/account/passkeys/options').then(function (opts) {
        var pk = opts.publicKey;
        pk.challenge = toBuffer(pk.challenge);
        pk.user.id = toBuffer(pk.user.id);
        (pk.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
        return navigator.credentials.create({ publicKey: pk });
      }).then(function (cred) {
        return post('/account/passkeys?name=' + encodeURIComponent(name), {
          id: cred.id,
          rawId: toBase64url(cred.rawId),
          type: cred.type,
          response: {
            clientDataJSON: toBase64url(cred.response.clientDataJSON),
            attestationObject: toBase64url(cred.response.attestationObject),
            transports: cred.response.getTransports ? cred.response.getTransports() : []
          },
          clientExtensionResults: cred.getClientExtensionResults()
        });
      }).then(function (res) {
        if (res.codes && res.codes.length) {
          var list = document.getElementById('recovery-codes');
          list.textContent = '';
          res.codes.forEach(function (c) {
            var li = document.createElement('li'), code = document.createElement('code');
            code.textContent = c;
            li.appendChild(code);
            list.appendChild(li);
          });
          document.getElementById('recovery-section').hidden = false;
          say('Passkey added. Keep the recovery codes below.', false);
        } else {
          say('Passkey added.', false);
          window.location.assign('/account/2fa');
        }
      }).catch(failed);
    });
  }

  var login = document.getElementById('passkey-login');
  if (login) {
    login.addEventListener('click', function () {
      if (!supported()) return;
      post('/login/2fa/passkey/options').then(function (opts) {
        var pk = opts.publicKey;
        pk.challenge = toBuffer(pk.challenge);
        (pk.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
        return navigator.credentials.get({ publicKey: pk });
      }).then(function (cred) {
        return post('/login/2fa/passkey', {
          id: cred.id,
          rawId: toBase64url(cred.rawId),
          type: cred.type,
          response: {
            clientDataJSON: toBase64url(cred.response.clientDataJSON),
            authenticatorData: toBase64url(cred.response.authenticatorData),
            signature: toBase64url(cred.response.signature),
            userHandle: cred.response.userHandle ? toBase64url(cred.response.userHandle) : null
          },
          clientExtensionResults: cred.getClientExtensionResults()
        });
      }).then(function (res) {
        window.location.assign(res.redirect || '/');
      }).catch(failed);
    });
  }
})();
