package dev.hipaagrpc.examples;

import dev.hipaagrpc.auth.authz.AuthorizationPolicy;
import io.grpc.BindableService;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * The patient-records service as a Spring Boot application: the service and the code policy are
 * beans, and everything else (mutual TLS, the identity provider, the audit log, the whole stack)
 * comes from {@code hipaa.grpc.*} properties through hipaa-grpc-spring-boot-starter. {@code
 * SpringPatientRecordsAppTest} runs it against the demo's PKI, identity provider and keys; see
 * spring-boot.md for the properties.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
public class SpringPatientRecordsApp {

  /** The service; the stack reads its rpcs' {@code .proto} options. */
  @Bean
  BindableService patientRecords() {
    return new PatientRecordsService();
  }

  /** The rules beyond the rpcs' options: the same as the plain example's. */
  @Bean
  AuthorizationPolicy codePolicy() {
    return PatientRecordsServer.codePolicy();
  }

  /** Runs the application with the properties it is given. */
  public static void main(String[] args) {
    SpringApplication.run(SpringPatientRecordsApp.class, args);
  }
}
