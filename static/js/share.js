// Share buttons of a film page: copy its link, or its link at the player's current time.
(function () {
  "use strict";

  var status = document.getElementById("share-status");
  var field = document.getElementById("share-link");

  function copied(text) {
    if (status) status.textContent = "Copied: " + text;
  }

  function copy(text) {
    if (field) field.value = text;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(text); }, function () {
        if (field) field.select();
      });
    } else if (field) {
      field.select(); // without the clipboard API, the link is selected to copy by hand
      copied(text);
    }
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var url = new URL(button.dataset.copy);
      if (button.hasAttribute("data-at-time")) {
        var media = document.querySelector("#player [slot=media]");
        url.searchParams.set("t", String(Math.floor((media && media.currentTime) || 0)));
      }
      copy(url.toString());
    });
  });
})();
