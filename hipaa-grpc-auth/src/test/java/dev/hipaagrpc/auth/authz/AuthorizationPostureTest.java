package dev.hipaagrpc.auth.authz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hipaagrpc.core.PostureItem;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AuthorizationPostureTest {

  private static AuthorizationPolicy policy(String role) {
    return AuthorizationPolicy.newBuilder("v1")
        .rule(AuthorizationPolicy.allow("read").methods("test.Records/Get").anyRole(role))
        .breakGlass(List.of("physician"), List.of(), List.of("PATIENT_EMERGENCY"))
        .build();
  }

  private static Map<?, ?> value(AuthorizationServerInterceptor authz, String key) {
    return (Map<?, ?>)
        authz.posture().stream().filter(i -> i.key().equals(key)).findFirst().get().value();
  }

  @Test
  void posture_policyHash_sameForSamePolicyDiffersForAnyChangeEvenUnderOneVersion() {
    AuthorizationServerInterceptor a = AuthorizationServerInterceptor.create(policy("nurse"));
    AuthorizationServerInterceptor b = AuthorizationServerInterceptor.create(policy("nurse"));
    AuthorizationServerInterceptor c = AuthorizationServerInterceptor.create(policy("billing"));
    Object hash = value(a, "authz.policy").get("sha256");
    assertThat(hash).asString().hasSize(64);
    assertThat(value(b, "authz.policy").get("sha256")).isEqualTo(hash);
    // Same version string, different rules: the hash tells them apart.
    assertThat(value(c, "authz.policy").get("version")).isEqualTo("v1");
    assertThat(value(c, "authz.policy").get("sha256")).isNotEqualTo(hash);
  }

  @Test
  void posture_defaultDenyAndBreakGlass_reportedWithTheirStandards() {
    AuthorizationServerInterceptor a = AuthorizationServerInterceptor.create(policy("nurse"));
    assertThat(a.posture())
        .extracting(PostureItem::key, i -> i.safeguard().citation())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("authz.policy", "164.312(a)(1)"),
            org.assertj.core.groups.Tuple.tuple("authz.default_deny", "164.312(a)(1)"),
            org.assertj.core.groups.Tuple.tuple("authz.break_glass", "164.312(a)(2)(ii)"));
    Map<?, ?> bg = value(a, "authz.break_glass");
    assertThat(bg.get("enabled")).isEqualTo(true);
    assertThat(bg.get("roles")).isEqualTo(List.of("physician"));
    assertThat(bg.get("reasons")).isEqualTo(List.of("PATIENT_EMERGENCY"));
  }

  /** A service in {@code svc.proto} whose request type is defined in the imported file. */
  private static com.google.protobuf.Descriptors.ServiceDescriptor service(String requestField)
      throws Exception {
    com.google.protobuf.DescriptorProtos.FileDescriptorProto messages =
        com.google.protobuf.DescriptorProtos.FileDescriptorProto.newBuilder()
            .setName("test/messages.proto")
            .setPackage("test")
            .setSyntax("proto3")
            .addMessageType(
                com.google.protobuf.DescriptorProtos.DescriptorProto.newBuilder()
                    .setName("Req")
                    .addField(
                        com.google.protobuf.DescriptorProtos.FieldDescriptorProto.newBuilder()
                            .setName(requestField)
                            .setNumber(1)
                            .setType(
                                com.google.protobuf.DescriptorProtos.FieldDescriptorProto.Type
                                    .TYPE_STRING)))
            .build();
    com.google.protobuf.DescriptorProtos.FileDescriptorProto svc =
        com.google.protobuf.DescriptorProtos.FileDescriptorProto.newBuilder()
            .setName("test/svc.proto")
            .setPackage("test")
            .setSyntax("proto3")
            .addDependency("test/messages.proto")
            .addService(
                com.google.protobuf.DescriptorProtos.ServiceDescriptorProto.newBuilder()
                    .setName("Records")
                    .addMethod(
                        com.google.protobuf.DescriptorProtos.MethodDescriptorProto.newBuilder()
                            .setName("Get")
                            .setInputType(".test.Req")
                            .setOutputType(".test.Req")))
            .build();
    com.google.protobuf.Descriptors.FileDescriptor m =
        com.google.protobuf.Descriptors.FileDescriptor.buildFrom(
            messages, new com.google.protobuf.Descriptors.FileDescriptor[0]);
    return com.google.protobuf.Descriptors.FileDescriptor.buildFrom(
            svc, new com.google.protobuf.Descriptors.FileDescriptor[] {m})
        .findServiceByName("Records");
  }

  @Test
  void policyHash_coversTheImportedFilesOfTheRequestTypes() throws Exception {
    List<PolicyCompiler.Source> none = List.of();
    String a = PolicyCompiler.canonicalSha256("v1", none, List.of(service("patient_id")));
    String b = PolicyCompiler.canonicalSha256("v1", none, List.of(service("patient_id")));
    String c = PolicyCompiler.canonicalSha256("v1", none, List.of(service("note")));
    assertThat(b).isEqualTo(a);
    // Only the imported file changed (where field options such as patient_id live).
    assertThat(c).isNotEqualTo(a);
  }
}
