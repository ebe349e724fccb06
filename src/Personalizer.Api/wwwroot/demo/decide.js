// The home and cart pages: decide every slot on the page.
Personalizer.decide();
