/* Check-in (外出签到, CUS-8): put the browser's location into the visit form's hidden
   fields. The server stores it with the time; without a location the visit still saves. */
(function () {
  var button = document.getElementById("check-in");
  if (!button) return;
  var status = document.getElementById("check-in-status");
  var messages = {};
  document.getElementById("check-in-messages").content
    .querySelectorAll("[data-key]").forEach(function (el) { messages[el.dataset.key] = el.textContent; });
  function set(id, value) { document.getElementById(id).value = value; }
  button.addEventListener("click", function () {
    if (!navigator.geolocation) { status.textContent = messages.unsupported; return; }
    status.textContent = messages.asking;
    navigator.geolocation.getCurrentPosition(function (pos) {
      set("id_latitude", pos.coords.latitude.toFixed(6));
      set("id_longitude", pos.coords.longitude.toFixed(6));
      set("id_accuracy_m", Math.round(pos.coords.accuracy));
      set("id_check_in", "1");
      status.textContent = messages.done.replace("%s", Math.round(pos.coords.accuracy));
      button.classList.replace("btn-outline-success", "btn-success");
    }, function () {
      status.textContent = messages.denied;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
