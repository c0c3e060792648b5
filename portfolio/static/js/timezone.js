// Pre-fill the sign-up time zone from the browser, when the field is still the default.
(function () {
  var field = document.getElementById("timezone");
  if (!field || field.value !== "UTC") return;
  try {
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (tz) field.value = tz;
  } catch (e) { /* keep UTC */ }
})();
