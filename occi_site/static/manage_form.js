// The management forms' scripts, kept out of the pages (the Content-Security-Policy
// allows no inline script): deform's widget callbacks, and TinyMCE on each rich
// text field, with the options the field carries in data-richtext.
document.addEventListener('DOMContentLoaded', function () {
  if (window.deform) {
    window.deform.load();
  }
  document.querySelectorAll('textarea[data-richtext]').forEach(function (area) {
    var options = JSON.parse(area.dataset.richtext);
    options.target = area;
    if (area.dataset.richtextLanguage && area.dataset.richtextLanguage !== 'en') {
      options.language = area.dataset.richtextLanguage;
    }
    window.tinymce.init(options);
  });
});
