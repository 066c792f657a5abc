/* orb/transport/zmq/zmq_transport.c - placeholder until implemented. */
