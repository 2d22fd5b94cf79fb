// Keeps a front desk or a waiting-room display current without reloading the page.
//
// The element with `data-live` names the server's change stream (Server-Sent Events). On every
// event the page fetches its own address again and swaps in the fresh element of the same id:
// what the screen shows is always exactly what a reload would show, and the stream carries no
// patient data. `EventSource` reconnects by itself after a restart; the server's first event
// on every connection is `sync`, so a reconnected page catches up on what it missed.
(function () {
  'use strict';
  var board = document.querySelector('[data-live]');
  if (!board || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var status = document.querySelector('[data-live-status]');
  var busy = false;
  var again = false;

  function say(online) {
    if (!status) return;
    status.textContent = online ? status.dataset.online : status.dataset.offline;
    status.dataset.state = online ? 'online' : 'offline';
  }

  // Focus survives a swap: the element with the same id, test id or button label gets it back.
  function focusKey(el) {
    if (!el || el === document.body || !board.contains(el)) return null;
    var card = el.closest('[data-appointment]');
    return { id: el.id, card: card && card.dataset.appointment, testid: el.dataset && el.dataset.testid };
  }
  function restoreFocus(key) {
    if (!key) return;
    var el = key.id && document.getElementById(key.id);
    if (!el && key.card) {
      var card = board.querySelector('[data-appointment="' + key.card + '"]');
      el = card && (key.testid ? card.querySelector('[data-testid="' + key.testid + '"]') : null);
    }
    if (el && el.focus) el.focus();
  }

  // A form being filled in (a walk-in's details, a cancellation's reason) is not swapped away:
  // the refresh waits until the field is left and the form is sent or closed.
  function typing() {
    var el = document.activeElement;
    if (el && board.contains(el) && /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName)) return true;
    return Array.prototype.some.call(board.querySelectorAll('details[open] input:not([type=hidden])'), function (input) {
      return input.value !== '';
    });
  }

  function refresh() {
    if (busy) { again = true; return; }
    if (typing()) { setTimeout(refresh, 1000); return; }
    busy = true;
    fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' }, cache: 'no-store' })
      .then(function (res) {
        return res.text().then(function (html) { return { status: res.status, redirected: res.redirected, html: html }; });
      })
      .then(function (page) {
        var fresh = new DOMParser().parseFromString(page.html, 'text/html').getElementById(board.id);
        if (fresh && !page.redirected && typing()) {
          // Typing began while the page was being fetched: its answer must not empty the form.
          again = true;
        } else if (fresh && !page.redirected) {
          var key = focusKey(document.activeElement);
          // A form opened but not yet filled in stays open.
          var open = Array.prototype.map.call(board.querySelectorAll('details[open][id]'), function (d) { return d.id; });
          board.replaceChildren.apply(board, Array.prototype.slice.call(fresh.childNodes));
          open.forEach(function (id) {
            var d = document.getElementById(id);
            if (d && d.tagName === 'DETAILS') d.open = true;
          });
          board.dataset.refreshed = String(Number(board.dataset.refreshed || 0) + 1);
          restoreFocus(key);
        } else if (page.redirected || (page.status >= 400 && page.status < 500)) {
          // Signed out, or the display link was revoked: the page itself says so.
          source.close();
          location.reload();
        } else {
          again = true;
        }
      })
      .catch(function () { again = true; })
      .then(function () {
        busy = false;
        if (again) { again = false; setTimeout(refresh, 500); }
      });
  }

  var source = new EventSource(board.dataset.live);
  source.addEventListener('open', function () { say(true); });
  source.addEventListener('error', function () { say(false); });
  source.addEventListener('sync', refresh);
  source.addEventListener('change', refresh);

  // Keys for a desk run from the keyboard: links marked `data-key` (previous day, today, next
  // day) answer to their key unless the user is typing.
  document.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    if (!/^[\[\]a-z]$/.test(e.key)) return;
    var link = document.querySelector('a[data-key="' + e.key + '"]');
    if (link) { e.preventDefault(); link.click(); }
  });
})();
