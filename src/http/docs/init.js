// Starts Swagger UI on the server's own OpenAPI document. Every asset comes from this
// server: no CDN, no online validator, nothing fetched from elsewhere.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    // Relative to /docs, so it also works under a path prefix.
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayOperationId: true,
    displayRequestDuration: true,
    filter: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
