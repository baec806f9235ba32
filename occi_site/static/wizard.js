// Recalculate the price as soon as a choice (the renewal period) changes;
// without script, the Update button next to it does the same.
document.querySelectorAll('select.auto-update').forEach(function (select) {
  select.addEventListener('change', function () {
    var url = new URL(window.location.href);
    url.searchParams.set(select.name, select.value);
    window.location.assign(url.toString());
  });
});
