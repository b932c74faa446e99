package dev.hipaagrpc.auth.authz;

import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.TENANT;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.record;
import static dev.hipaagrpc.auth.authz.AuthorizationTestServer.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import dev.hipaagrpc.auth.authz.proto.Access;
import dev.hipaagrpc.auth.authz.proto.PolicyProto;
import dev.hipaagrpc.auth.authz.testing.AdminServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.AuthzTest;
import dev.hipaagrpc.auth.authz.testing.MissingActionServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.ObservationServiceGrpc;
import dev.hipaagrpc.auth.authz.testing.PlainRequest;
import dev.hipaagrpc.core.AccessDecision;
import dev.hipaagrpc.core.Actions;
import dev.hipaagrpc.core.proto.Action;
import dev.hipaagrpc.core.proto.ActionProto;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Policy validation, the three sources, and how they combine. */
class AuthorizationPolicyTest {

  static final String OBS = "hipaagrpc.auth.authz.testing.ObservationService";
  static final String ADMIN = "hipaagrpc.auth.authz.testing.AdminService";
  static final PlainRequest REQ = PlainRequest.newBuilder().setOrg(TENANT).build();

  @TempDir Path dir;

  static AuthorizationPolicy.Builder base() {
    return AuthorizationPolicy.newBuilder("v1");
  }

  @Test
  void build_invalidPolicies_refusedWithWhatToFix() {
    assertThatThrownBy(() -> AuthorizationPolicy.newBuilder(" ").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("version");
    assertThatThrownBy(() -> base().rule(AuthorizationPolicy.allow("a")).build())
        .hasMessageContaining("names no methods");
    assertThatThrownBy(
            () ->
                base()
                    .rule(AuthorizationPolicy.allow("a").methods(ADMIN + "/Ping"))
                    .rule(AuthorizationPolicy.deny("a").methods(ADMIN + "/Ping"))
                    .build())
        .hasMessageContaining("duplicate rule id 'a'");
    assertThatThrownBy(
            () -> base().rule(AuthorizationPolicy.allow("a").methods("not a method")).build())
        .hasMessageContaining("is not 'pkg.Service/Method'");
    assertThatThrownBy(
            () -> base().rule(AuthorizationPolicy.allow("a").methods("pkg.Svc/Get*")).build())
        .hasMessageContaining("is not 'pkg.Service/Method'");
    assertThatThrownBy(
            () ->
                base()
                    .rule(AuthorizationPolicy.allow("a").methods(ADMIN + "/*").purposes("SPY"))
                    .build())
        .hasMessageContaining("HL7 PurposeOfUse");
    assertThatThrownBy(
            () ->
                base()
                    .rule(
                        AuthorizationPolicy.allow("a")
                            .methods(ADMIN + "/*")
                            .spiffeIds("spiffe://td/ns/*/sa"))
                    .build())
        .hasMessageContaining("SPIFFE");
    assertThatThrownBy(
            () ->
                base()
                    .rule(AuthorizationPolicy.deny("a").methods(ADMIN + "/*").allowBreakGlass())
                    .build())
        .hasMessageContaining("ALLOW rules only");
    assertThatThrownBy(
            () ->
                base()
                    .method(AuthorizationPolicy.method(ADMIN + "/Ping").fhir("", Action.READ))
                    .build())
        .hasMessageContaining("set together");
    assertThatThrownBy(
            () ->
                base()
                    .method(
                        AuthorizationPolicy.method(ADMIN + "/Ping")
                            .fhir("observation", Action.READ))
                    .build())
        .hasMessageContaining("FHIR type name");
    assertThatThrownBy(
            () ->
                base()
                    .method(AuthorizationPolicy.method(ADMIN + "/Ping").patientField("a..b"))
                    .build())
        .hasMessageContaining("invalid field path");
    assertThatThrownBy(
            () ->
                base()
                    .breakGlass(List.of("physician"), List.of(), List.of("free text reason"))
                    .build())
        .hasMessageContaining("break_glass reason");
  }

  /** The code policy {@code base() + method}, combined with ObservationService's options. */
  static AuthorizationServerInterceptor withObservationOptions(
      AuthorizationPolicy.MethodBuilder method) {
    return AuthorizationServerInterceptor.newBuilder()
        .policy(base().method(method).build())
        .methodOptionsFrom(ObservationServiceGrpc.getServiceDescriptor())
        .build();
  }

  @Test
  void build_specActionDisagreesWithTheRpcsActionOption_refused() {
    assertThatThrownBy(
            () ->
                withObservationOptions(
                    AuthorizationPolicy.method(OBS + "/Read").fhir("Observation", Action.SEARCH)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("action SEARCH conflicts with the rpc's (hipaagrpc.core.action)")
        .hasMessageContaining("READ");
  }

  @Test
  void build_specActionAgreesWithTheRpcsActionOption_accepted() {
    AuthorizationServerInterceptor authz =
        withObservationOptions(
            AuthorizationPolicy.method(OBS + "/Read").fhir("Observation", Action.READ));
    assertThat(authz.policyVersion()).isEqualTo("v1");
  }

  @Test
  void build_accessOptionNamesAResourceButTheRpcHasNoAction_refused() {
    assertThatThrownBy(
            () ->
                AuthorizationServerInterceptor.newBuilder()
                    .methodOptionsFrom(MissingActionServiceGrpc.getServiceDescriptor())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("fhir_resource needs the rpc's (hipaagrpc.core.action) option");
  }

  @Test
  void interceptCall_executeOrExportOnAResource_noSmartScopeGrantsIt() throws Exception {
    for (Action action : List.of(Action.EXECUTE, Action.EXPORT)) {
      AuthorizationServerInterceptor authz =
          AuthorizationServerInterceptor.create(
              base()
                  .rule(
                      AuthorizationPolicy.allow("admins")
                          .methods(ADMIN + "/Purge")
                          .anyRole("admin"))
                  .method(AuthorizationPolicy.method(ADMIN + "/Purge").fhir("Observation", action))
                  .build());
      try (AuthorizationTestServer server = new AuthorizationTestServer(authz)) {
        server.principal.set(
            user("u1", "admin").addScopes(List.of("user/*.*", "system/*.cruds")).build());
        StatusRuntimeException e =
            catchThrowableOfType(
                StatusRuntimeException.class,
                () -> server.admin().purge(PlainRequest.getDefaultInstance()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(server.lastFacts.get().decision().ruleId())
            .isEqualTo(AuthorizationServerInterceptor.RULE_SMART_SCOPE);
        assertThat(server.lastFacts.get().action()).isEqualTo(action);
        assertThat(server.serviceSaw).isEmpty();
      }
    }
  }

  @Test
  void parseTextFormat_andJson_describeTheSamePolicy() {
    AuthorizationPolicy text =
        AuthorizationPolicy.parseTextFormat(
            "version: \"v9\" rules { id: \"r\" effect: DENY methods: \"a.B/*\" roles: \"x\" }");
    AuthorizationPolicy json =
        AuthorizationPolicy.parseJson(
            "{\"version\":\"v9\",\"rules\":[{\"id\":\"r\",\"effect\":\"DENY\","
                + "\"methods\":[\"a.B/*\"],\"roles\":[\"x\"]}]}");
    assertThat(text.toProto()).isEqualTo(json.toProto());
    assertThat(text.version()).isEqualTo("v9");
    assertThatThrownBy(() -> AuthorizationPolicy.parseTextFormat("version: "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AuthorizationPolicy.parseJson("{\"version\": 1, \"x\": 2}"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void fromFile_readsTextFormat() throws Exception {
    Path file = dir.resolve("p.txtpb");
    Files.writeString(file, "version: \"f1\" rules { id: \"r\" methods: \"a.B/C\" }");
    assertThat(AuthorizationPolicy.fromFile(file).version()).isEqualTo("f1");
  }

  @Test
  void build_noSource_refused() {
    assertThatThrownBy(() -> AuthorizationServerInterceptor.newBuilder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("nothing to enforce");
  }

  // ---- combining code, file and method options

  @Test
  void build_allThreeSources_combinedVersionAndDenyFromFileBeatsOptionAllow() throws Exception {
    Path file = dir.resolve("policy.textproto");
    Files.writeString(
        file,
        "version: \"file-3\"\n"
            + "rules { id: \"no-students\" effect: DENY methods: \""
            + OBS
            + "/*\" roles: \"student\" }\n");
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.newBuilder()
            .policy(
                base()
                    .rule(
                        AuthorizationPolicy.allow("ping").methods(ADMIN + "/Ping").anyRole("nurse"))
                    .build())
            .policyFile(file)
            .methodOptionsFrom(
                ObservationServiceGrpc.bindService(
                    new ObservationServiceGrpc.ObservationServiceImplBase() {}))
            .build();
    assertThat(authz.policyVersion()).isEqualTo("v1+file-3");
    try (AuthorizationTestServer server = new AuthorizationTestServer(authz)) {
      server.principal.set(user("u1", "nurse").addScopes(List.of("user/*.rs")).build());
      server.observations().read(record("p-1"));
      assertThat(server.lastFacts.get().decision().ruleId()).isEqualTo("option:" + OBS + "/Read");
      assertThat(server.lastFacts.get().decision().policyVersion()).isEqualTo("v1+file-3");
      server.admin().ping(REQ);
      assertThat(server.lastFacts.get().decision().ruleId()).isEqualTo("ping");

      server.principal.set(user("u2", "nurse", "student").addScopes(List.of("user/*.rs")).build());
      StatusRuntimeException e =
          catchThrowableOfType(
              StatusRuntimeException.class, () -> server.observations().read(record("p-1")));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(server.lastFacts.get().decision().ruleId()).isEqualTo("no-students");
    }
  }

  @Test
  void build_optionsOnly_versionIsMethodOptions() {
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.newBuilder()
            .methodOptionsFrom(ObservationServiceGrpc.getServiceDescriptor())
            .build();
    assertThat(authz.policyVersion()).isEqualTo("method-options");
  }

  @Test
  void build_declareOnlyOption_needsAPolicyRule() throws Exception {
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.newBuilder()
            .methodOptionsFrom(ObservationServiceGrpc.getServiceDescriptor())
            .build();
    try (AuthorizationTestServer server = new AuthorizationTestServer(authz)) {
      server.principal.set(user("u1", "nurse", "physician").addScopes(List.of("user/*.*")).build());
      StatusRuntimeException e =
          catchThrowableOfType(
              StatusRuntimeException.class, () -> server.observations().create(record("p-1")));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(server.lastFacts.get().decision().ruleId())
          .isEqualTo(AccessDecision.DEFAULT_DENY_RULE);
      // The declaration still tells audit what the method does.
      assertThat(server.lastFacts.get().action()).isEqualTo(Action.CREATE);
    }
  }

  @Test
  void build_conflictingSources_refused() {
    // Same rule id in code and in options.
    assertThatThrownBy(
            () ->
                AuthorizationServerInterceptor.newBuilder()
                    .policy(
                        base()
                            .rule(AuthorizationPolicy.allow("search-obs").methods(ADMIN + "/Ping"))
                            .build())
                    .methodOptionsFrom(ObservationServiceGrpc.getServiceDescriptor())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("duplicate rule id 'search-obs'");
    // Code declares another resource than the option.
    assertThatThrownBy(
            () ->
                withObservationOptions(
                    AuthorizationPolicy.method(OBS + "/Read").fhir("Patient", Action.READ)))
        .hasMessageContaining("conflicts with the FHIR resource");
    // Code names another patient field than the field option marks.
    assertThatThrownBy(
            () ->
                withObservationOptions(
                    AuthorizationPolicy.method(OBS + "/Read").patientField("note")))
        .hasMessageContaining("conflicts with the patient field");
    // A rule naming a method the described service does not have (a typo).
    assertThatThrownBy(
            () ->
                AuthorizationServerInterceptor.newBuilder()
                    .policy(
                        base().rule(AuthorizationPolicy.allow("t").methods(OBS + "/Raed")).build())
                    .methodOptionsFrom(ObservationServiceGrpc.getServiceDescriptor())
                    .build())
        .hasMessageContaining("has no method");
    // A configured field that does not exist in the described request type.
    assertThatThrownBy(
            () ->
                AuthorizationServerInterceptor.newBuilder()
                    .policy(
                        base()
                            .method(
                                AuthorizationPolicy.method(ADMIN + "/Ping")
                                    .patientField("subject.nope"))
                            .build())
                    .methodOptionsFrom(AdminServiceGrpc.getServiceDescriptor())
                    .build())
        .hasMessageContaining("is not a singular string field");
  }

  @Test
  void accessOption_optionsArrivedAsUnknownFields_reparsed() throws Exception {
    // Rebuild the test file's descriptor from bytes parsed without our extension registry, as
    // happens with descriptors loaded at run time: the options then hold unknown fields only.
    FileDescriptorProto raw =
        FileDescriptorProto.parseFrom(AuthzTest.getDescriptor().toProto().toByteString());
    Descriptors.FileDescriptor rebuilt =
        Descriptors.FileDescriptor.buildFrom(
            raw,
            new Descriptors.FileDescriptor[] {
              PolicyProto.getDescriptor(), ActionProto.getDescriptor()
            });
    Descriptors.MethodDescriptor read =
        rebuilt.findServiceByName("ObservationService").findMethodByName("Read");
    assertThat(read.getOptions().hasExtension(PolicyProto.access)).isFalse();

    Access access = PolicyCompiler.accessOption(read);
    assertThat(access).isNotNull();
    assertThat(access.getRolesList()).containsExactly("nurse");
    assertThat(access.getFhirResource()).isEqualTo("Observation");
    assertThat(Actions.declared(read.getOptions())).isEqualTo(Action.READ);

    // And end to end: a service descriptor whose schema is the rebuilt descriptor.
    io.grpc.ServiceDescriptor.Builder sd =
        io.grpc.ServiceDescriptor.newBuilder(OBS)
            .setSchemaDescriptor(
                new ProtoServiceDescriptorSupplier() {
                  @Override
                  public Descriptors.FileDescriptor getFileDescriptor() {
                    return rebuilt;
                  }

                  @Override
                  public Descriptors.ServiceDescriptor getServiceDescriptor() {
                    return rebuilt.findServiceByName("ObservationService");
                  }
                });
    ObservationServiceGrpc.getServiceDescriptor().getMethods().forEach(sd::addMethod);
    AuthorizationServerInterceptor authz =
        AuthorizationServerInterceptor.newBuilder().methodOptionsFrom(sd.build()).build();
    try (AuthorizationTestServer server = new AuthorizationTestServer(authz)) {
      server.principal.set(
          user("u1", "nurse").patient("p-1").addScopes(List.of("patient/*.rs")).build());
      server.observations().read(record("p-1"));
      assertThat(server.lastFacts.get().decision().ruleId()).isEqualTo("option:" + OBS + "/Read");
      // The field options were re-parsed too: the patient field is enforced.
      StatusRuntimeException e =
          catchThrowableOfType(
              StatusRuntimeException.class, () -> server.observations().read(record("p-2")));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }

  @Test
  void build_serviceWithoutProtoSchema_refused() {
    io.grpc.ServiceDescriptor sd =
        io.grpc.ServiceDescriptor.newBuilder(OBS)
            .addMethod(ObservationServiceGrpc.getReadMethod())
            .build();
    assertThatThrownBy(
            () -> AuthorizationServerInterceptor.newBuilder().methodOptionsFrom(sd).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no protobuf schema descriptor");
  }
}
