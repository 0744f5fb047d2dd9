// @ts-check
/** The API reference page (/api/docs): Swagger UI over our own OpenAPI document. */
window.addEventListener('load', () => {
  // swagger-ui-bundle.js (loaded before this script) defines the global.
  /** @type {any} */ (window).SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
  });
});
