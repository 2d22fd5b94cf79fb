/*
 * Booking widget loader. A clinic pastes:
 *   <script src="https://HOST/embed.js" data-clinic="demo" async></script>
 * and this inserts the clinic's booking page in an iframe right after the script tag.
 * No dependencies, no globals.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var clinic = script.getAttribute("data-clinic") || "";
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(clinic)) {
    console.error("booking embed: data-clinic must be a clinic slug such as \"demo\"");
    return;
  }
  var origin = new URL(script.src, document.baseURI).origin;
  var frame = document.createElement("iframe");
  frame.src = origin + "/book/" + encodeURIComponent(clinic);
  frame.title = "Book an appointment";
  frame.loading = "lazy";
  frame.style.cssText = "width:100%;min-height:640px;border:0;";
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
