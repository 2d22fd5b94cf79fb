/*
 * Runs inside the booking widget's pages. When the page is framed by an origin the clinic
 * allowed (the server then renders <meta name="booking-parent" content="ORIGIN">), it tells
 * that origin, and only that origin, the page height and the bookings made. Outside a frame,
 * or for any other parent, it does nothing.
 */
(function () {
  "use strict";
  if (window.parent === window) return;
  var sent = {};
  function parentOrigin() {
    var meta = document.querySelector('meta[name="booking-parent"]');
    return meta ? meta.getAttribute("content") : null;
  }
  function post(message) {
    var origin = parentOrigin();
    // The browser drops the message if the parent is not at this origin.
    if (origin) window.parent.postMessage(message, origin);
  }
  var lastHeight = 0;
  function resize() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      post({ type: "booking:resize", height: height });
    }
  }
  function remembered(key) {
    if (sent[key]) return true;
    try { return window.sessionStorage.getItem(key) === "1"; } catch (e) { return false; }
  }
  function remember(key) {
    sent[key] = true;
    try { window.sessionStorage.setItem(key, "1"); } catch (e) { /* storage may be blocked in frames */ }
  }
  function report() {
    var nodes = document.querySelectorAll("[data-booking-event]");
    for (var i = 0; i < nodes.length; i++) {
      var d = nodes[i].dataset;
      var key = "booking-event:" + d.bookingEvent + ":" + d.reference + ":" + d.start;
      if (remembered(key)) continue;
      remember(key);
      post({ type: d.bookingEvent, reference: d.reference, start: d.start });
    }
  }
  function update() { resize(); report(); }
  function start() {
    update();
    new MutationObserver(update).observe(document.documentElement, { childList: true, subtree: true, attributes: true });
    if (window.ResizeObserver) new ResizeObserver(resize).observe(document.documentElement);
    window.addEventListener("load", update);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
