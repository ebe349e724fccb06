// Shared by the demo pages: the consent switch and the snippet's init. ?timeout=ms tries the page
// as on a slow network (default 300 ms).
(function () {
  const consent = localStorage.getItem("p13n-demo-consent") !== "denied";
  const box = document.getElementById("consent");
  box.checked = consent;
  box.onchange = (e) => {
    localStorage.setItem("p13n-demo-consent", e.target.checked ? "granted" : "denied");
    Personalizer.setConsent(e.target.checked);
    location.reload();
  };
  const timeoutMs = Number(new URLSearchParams(location.search).get("timeout")) || 300;
  Personalizer.init({ endpoint: "", siteKey: "demo-site-key", timeoutMs, consent });
})();
