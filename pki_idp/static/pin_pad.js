// The keypad buttons type into the PIN field, like the keypad of a card reader; the field
// itself stays a normal password input, so the keyboard works too (and the page without script).
document.querySelectorAll("[data-pin-pad]").forEach(function (form) {
  var field = form.querySelector("input[type=password]");
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
});
