// The payment page: mount Stripe's Payment Element and confirm in the browser. The booking is
// confirmed by the server when Stripe's webhook says the payment succeeded, not by this script.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("payment-form");
    if (!form || typeof Stripe === "undefined") { return; }
    var stripe = Stripe(form.dataset.key);
    var elements = stripe.elements({ clientSecret: form.dataset.secret });
    elements.create("payment").mount("#payment-element");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      document.getElementById("pay-button").disabled = true;
      stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.return } })
        .then(function (result) {
          if (result.error) {
            document.getElementById("payment-message").textContent = result.error.message;
            document.getElementById("pay-button").disabled = false;
          }
        });
    });
  });
})();
