// Returns the browser to the merchant by submitting the receipt's signed form,
// after the delay the form asks for. Without scripts the button does the same.
(function () {
  var form = document.getElementById('return-to-merchant');
  if (form) {
    var delay = parseInt(form.getAttribute('data-submit-after-ms'), 10) || 0;
    window.setTimeout(function () { form.submit(); }, delay);
  }
})();
