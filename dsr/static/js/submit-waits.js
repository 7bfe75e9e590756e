// A form with data-waits-for="<selector>" waits, when it is submitted, for the htmx request of that element
// still in flight (issue 16, item 10). On the intake page the match panel asks for known subjects when an
// identifying field changes, which it does as the "Log request" button takes the focus; submitting at once
// would cancel that request, and htmx reports a cancelled request as an error in the console. The form is
// sent as soon as the panel's answer is in (at most 3 seconds later); nothing else changes.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.waitsFor || form.dataset.waited === "yes") {
    return;
  }
  var panel = document.querySelector(form.dataset.waitsFor);
  if (!panel || !panel.classList.contains("htmx-request")) {
    return;
  }
  event.preventDefault();
  var submitter = event.submitter || null;
  var sent = false;
  function send() {
    if (sent) {
      return;
    }
    sent = true;
    form.dataset.waited = "yes";  // the submit below goes through; a page shown again waits again
    if (submitter && submitter.form === form) {
      form.requestSubmit(submitter);
    } else {
      form.requestSubmit();
    }
    delete form.dataset.waited;
  }
  panel.addEventListener("htmx:afterRequest", function () { window.setTimeout(send, 0); }, { once: true });
  window.setTimeout(send, 3000);
});
