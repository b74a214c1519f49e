// Enhancement only: every page works without it. A pressed submit button is disabled so a
// double click cannot post a form twice.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method && form.method.toLowerCase() === "post") {
    for (const button of form.querySelectorAll("button[type=submit]")) {
      setTimeout(() => { button.disabled = true; }, 0);
    }
  }
});
