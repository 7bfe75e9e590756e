// Checks a chosen file's size before it is uploaded (issue 16, item 10): a file input with
// data-max-bytes refuses a larger file at once, with the message in data-too-large, instead of
// sending 12 MB to be refused by the server. The server checks again (content and size).
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.maxBytes) {
    return;
  }
  var max = parseInt(input.dataset.maxBytes, 10);
  var tooLarge = Array.prototype.some.call(input.files || [], function (file) { return file.size > max; });
  input.setCustomValidity(tooLarge ? input.dataset.tooLarge : "");
  input.classList.toggle("is-invalid", tooLarge);
  if (tooLarge) {
    input.reportValidity();
  }
});
