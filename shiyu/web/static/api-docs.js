/* Starts Swagger UI on /api/docs (shiyu/web/api_docs.py) with the API description named by the page. No
   validator badge: it would ask validator.swagger.io about our API. */
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: el.dataset.spec, dom_id: "#swagger-ui", layout: "BaseLayout", deepLinking: true,
    showExtensions: true, showCommonExtensions: true, validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis]
  });
})();
