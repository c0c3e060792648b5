// "Copy link" buttons: shown only with JS; without it the link field stays selectable.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var status = button.parentNode.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      var done = function () { if (status) status.textContent = "Copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          if (status) status.textContent = "Press Ctrl+C (⌘C) to copy the selected link.";
        });
      } else if (document.execCommand && document.execCommand("copy")) {
        done();
      } else if (status) {
        status.textContent = "Press Ctrl+C (⌘C) to copy the selected link.";
      }
    });
  });
})();
