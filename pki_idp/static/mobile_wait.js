// Ask the identity provider whether the phone has answered; once it has (or the login is gone),
// press Continue for the member. Without script the Continue button does the same by hand.
(function () {
  var form = document.querySelector("form[data-status-url]");
  if (!form) {
    return;
  }
  var statusUrl = form.getAttribute("data-status-url");
  function poll() {
    fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { state: "gone" }; })
      .then(function (status) {
        if (status.state === "awaiting_phone") {
          window.setTimeout(poll, 2000);
        } else {
          form.submit();
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
