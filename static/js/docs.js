// Starts Swagger UI on /docs (a file, because the Content-Security-Policy forbids inline script).
const root = document.getElementById("swagger-ui");
window.SwaggerUIBundle({
  url: root.dataset.spec,
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  validatorUrl: null,
});
