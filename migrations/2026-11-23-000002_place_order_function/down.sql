DROP FUNCTION place_order;
