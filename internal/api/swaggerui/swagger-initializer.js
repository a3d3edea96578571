// eventsd's Swagger UI setup. It lives in its own file, not inline, so that
// the page's Content-Security-Policy can allow only scripts from this server.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The default validator badge loads from validator.swagger.io; the page
    // must work without internet.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
};
