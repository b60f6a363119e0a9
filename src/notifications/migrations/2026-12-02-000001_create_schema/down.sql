DROP TABLE emails;
DROP TABLE inbox;
