/*
 * Booking widget loader. Paste on any page of an allowed origin:
 *
 *   <script src="https://BOOKING-HOST/embed.js" data-clinic="demo" async></script>
 *
 * Options (data-*): mode="inline|popup", service, provider, location, product (ids),
 * locale ("en", "de"), label (popup button text). The widget runs in an iframe; it grows to
 * its content and reports bookings as DOM events on this script element:
 * booking:created, booking:rescheduled, booking:cancelled (event.detail: reference, start).
 * Messages are accepted only from the booking host, and the widget sends them only to
 * origins the clinic allowed (which also decides who may frame it at all).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || script.dataset.bookingLoaded) return;
  script.dataset.bookingLoaded = "1";
  var fail = function (why) { if (window.console) console.error("[booking embed] " + why); };
  var data = script.dataset;
  var clinic = data.clinic || "";
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(clinic)) return fail("data-clinic must be a clinic slug");
  var host = new URL(script.src, document.baseURI).origin;

  var query = new URLSearchParams();
  ["service", "provider", "location", "product"].forEach(function (key) {
    if (data[key]) query.set(key, data[key]);
  });
  if (data.locale) query.set("lang", data.locale);
  query.set("embed", window.location.origin);

  var frame = document.createElement("iframe");
  frame.src = host + "/book/" + clinic + "?" + query.toString();
  frame.title = data.label || "Book an appointment";
  frame.setAttribute("loading", "eager");
  frame.style.cssText = "display:block;width:100%;min-height:480px;border:0;color-scheme:normal";

  var dialog = null;
  if (data.mode === "popup") {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = data.label || "Book an appointment";
    button.className = "booking-embed-button";
    dialog = document.createElement("dialog");
    dialog.style.cssText = "width:min(720px,100vw);max-height:100vh;padding:0;border:0;border-radius:12px";
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", "Close");
    close.style.cssText = "float:right;font-size:24px;border:0;background:none;padding:4px 12px;cursor:pointer";
    close.addEventListener("click", function () { dialog.close(); });
    dialog.appendChild(close);
    dialog.appendChild(frame);
    button.addEventListener("click", function () { dialog.showModal(); });
    script.parentNode.insertBefore(button, script.nextSibling);
    document.body.appendChild(dialog);
  } else {
    script.parentNode.insertBefore(frame, script.nextSibling);
  }

  var kinds = { "booking:created": 1, "booking:rescheduled": 1, "booking:cancelled": 1 };
  window.addEventListener("message", function (event) {
    if (event.origin !== host || event.source !== frame.contentWindow) return;
    var message = event.data;
    if (!message || typeof message.type !== "string") return;
    if (message.type === "booking:resize") {
      var height = Math.max(200, Math.min(Number(message.height) || 0, 20000));
      frame.style.height = height + "px";
    } else if (kinds[message.type]) {
      script.dispatchEvent(new CustomEvent(message.type, {
        bubbles: true,
        detail: { reference: String(message.reference || ""), start: String(message.start || "") },
      }));
    }
  });
})();
