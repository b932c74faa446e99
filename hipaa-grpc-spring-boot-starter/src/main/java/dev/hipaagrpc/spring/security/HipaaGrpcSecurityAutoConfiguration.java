package dev.hipaagrpc.spring.security;

import dev.hipaagrpc.spring.HipaaGrpcAutoConfiguration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.grpc.server.GlobalServerInterceptor;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.core.context.SecurityContextHolderStrategy;

/**
 * Registers the {@link SecurityContextBridge} as a Spring gRPC global server interceptor when
 * Spring Security is on the class path and the stack is enabled. Off with {@code
 * hipaa.grpc.spring-security.enabled=false}; replaced by declaring a {@link SecurityContextBridge}
 * bean.
 */
@AutoConfiguration(after = HipaaGrpcAutoConfiguration.class)
@ConditionalOnClass({SecurityContextHolder.class, GlobalServerInterceptor.class})
@ConditionalOnBooleanProperty(name = "hipaa.grpc.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "hipaa.grpc.spring-security.enabled", matchIfMissing = true)
public final class HipaaGrpcSecurityAutoConfiguration {

  /**
   * The bridge, applied by Spring to every service, inside the stack; over the application's {@code
   * SecurityContextHolderStrategy} bean when it has one (method security reads that one), otherwise
   * over {@link SecurityContextHolder}'s.
   */
  @Bean
  @GlobalServerInterceptor
  @ConditionalOnMissingBean
  SecurityContextBridge hipaaGrpcSecurityContextBridge(
      ObjectProvider<SecurityContextHolderStrategy> strategy) {
    return new SecurityContextBridge(
        strategy.getIfAvailable(SecurityContextHolder::getContextHolderStrategy));
  }
}
