// The PIN pad talks to the card agent on the member's own computer (the national PKI
// middleware's local service, at the address in data-card-agent): it shows whose card is in
// the reader, sends the PIN with the login's challenge to the agent, which has the card verify
// the PIN and sign, and posts only the card's certificate and signature to the identity
// provider. The PIN field has no name, so the PIN can never be part of that post.
(function () {
  var section = document.querySelector("[data-card-agent]");
  if (!section) {
    return;
  }
  var agent = section.getAttribute("data-card-agent").replace(/\/+$/, "");
  var form = section.querySelector("form[data-pin-pad]");
  var field = form.querySelector("input[type=password]");
  var connect = form.querySelector("button[type=submit]");
  var status = section.querySelector("[data-reader-status]");
  var problem = section.querySelector("[data-problem]");
  var WATCH_EVERY_MS = 2000;

  function message(code, tries) {
    var found = section.querySelector('[data-message="' + code + (tries ? "-" + tries : "") + '"]') ||
      section.querySelector('[data-message="card_failed"]');
    return found.textContent;
  }

  function showProblem(text) {
    problem.textContent = text;
    problem.hidden = false;
  }

  // Arabic-Indic and Persian digits typed on a keyboard count as the digits they are.
  function asciiDigits(text) {
    return text.replace(/[\u0660-\u0669]/g, function (digit) {
      return String(digit.charCodeAt(0) - 0x0660);
    }).replace(/[\u06f0-\u06f9]/g, function (digit) {
      return String(digit.charCodeAt(0) - 0x06f0);
    });
  }

  function askAgent(path, options) {
    return fetch(agent + path, Object.assign({ cache: "no-store", credentials: "omit" }, options))
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      });
  }

  function showCard(answer) {
    if (!answer.ok) {
      status.textContent = message(answer.body.error);
      return;
    }
    status.textContent = "";
    status.appendChild(document.createTextNode(message("card_in_reader") + " "));
    var holder = document.createElement("strong");
    holder.textContent = answer.body.name || "";
    status.appendChild(holder);
    var number = document.createElement("bdi");
    number.textContent = answer.body.civil_id || "";
    status.appendChild(document.createTextNode(" · "));
    status.appendChild(number);
  }

  function watchReader() {
    askAgent("/card")
      .then(showCard, function () {
        status.textContent = message("no_agent");
      })
      .then(function () {
        window.setTimeout(watchReader, WATCH_EVERY_MS);
      });
  }

  // The on-screen keys type into the PIN field, like the keypad of a card reader.
  form.addEventListener("click", function (event) {
    var key = event.target.closest("button[type=button]");
    if (!key) {
      return;
    }
    if (key.hasAttribute("data-clear")) {
      field.value = "";
    } else if (field.value.length < field.maxLength) {
      field.value += key.getAttribute("data-digit");
    }
    field.focus();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var pin = asciiDigits(field.value);
    field.value = "";
    connect.disabled = true;
    askAgent("/sign", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ challenge: form.elements.challenge.value, pin: pin })
    }).then(function (answer) {
      if (answer.ok) {
        form.elements.certificate.value = answer.body.certificate;
        form.elements.signature.value = answer.body.signature;
        form.submit();
        return;
      }
      showProblem(answer.body.error === "wrong_pin"
        ? message("wrong_pin", answer.body.tries_left)
        : message(answer.body.error));
      connect.disabled = false;
      field.focus();
    }, function () {
      showProblem(message("no_agent"));
      connect.disabled = false;
    });
  });

  watchReader();
})();
