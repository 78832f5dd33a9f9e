package io.mqttkafkabridge.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.oracle.svm.core.annotate.Alias;
import com.oracle.svm.core.annotate.Substitute;
import com.oracle.svm.core.annotate.TargetClass;

import io.moquette.broker.RetainedMessage;
import io.moquette.broker.subscriptions.Subscription;
import io.moquette.broker.subscriptions.Topic;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The native-image configuration still fits the Moquette on the class path: no GraalVM here, so a Moquette upgrade that
 * renames a field or method would otherwise only show up when someone builds the native executable.
 */
class NativeRegistrationsTest {

    private static final List<Class<?>> SUBSTITUTIONS = List.of(Target_io_moquette_broker_NewNettyAcceptor.class,
            Target_io_moquette_broker_BrokerConfiguration.class);

    @Test
    void every_alias_and_substitute_matches_a_member_of_its_target() throws Exception {
        for (Class<?> substitution : SUBSTITUTIONS) {
            Class<?> target = targetOf(substitution);
            for (Field field : substitution.getDeclaredFields()) {
                if (field.isSynthetic()) {
                    continue;
                }
                assertThat(field.isAnnotationPresent(Alias.class)).as("%s is an @Alias", field).isTrue();
                Field original = target.getDeclaredField(field.getName());
                assertThat(original.getType()).as("type of %s", original).isEqualTo(field.getType());
                assertThat(Modifier.isStatic(original.getModifiers())).as("static %s", original)
                        .isEqualTo(Modifier.isStatic(field.getModifiers()));
            }
            for (Method method : substitution.getDeclaredMethods()) {
                if (method.isSynthetic()) {
                    continue;
                }
                assertThat(method.isAnnotationPresent(Alias.class) || method.isAnnotationPresent(Substitute.class))
                        .as("%s is an @Alias or @Substitute", method).isTrue();
                Class<?>[] parameters = Arrays.stream(method.getParameterTypes()).map(NativeRegistrationsTest::targetOf)
                        .toArray(Class<?>[]::new);
                Method original = target.getDeclaredMethod(method.getName(), parameters);
                assertThat(original.getReturnType()).as("return type of %s", original)
                        .isEqualTo(targetOf(method.getReturnType()));
                assertThat(Modifier.isStatic(original.getModifiers())).as("static %s", original)
                        .isEqualTo(Modifier.isStatic(method.getModifiers()));
            }
        }
    }

    @Test
    void the_substituted_method_is_the_only_one_naming_the_missing_optional_jars() throws Exception {
        // initialize(...) names EpollEventLoopGroup, DropWizardMetricsHandler and BugSnagErrorsHandler; the substitute
        // must replace exactly that method (the jars are excluded in pom.xml and must stay absent)
        Class<?> acceptor = targetOf(Target_io_moquette_broker_NewNettyAcceptor.class);
        assertThat(acceptor.getDeclaredMethod("initialize", io.moquette.broker.NewNettyMQTTHandler.class,
                io.moquette.broker.config.IConfig.class, io.moquette.broker.ISslContextCreator.class,
                targetOf(Target_io_moquette_broker_BrokerConfiguration.class))).isNotNull();
        for (String absent : List.of("io.netty.channel.epoll.EpollEventLoopGroup", "com.codahale.metrics.MetricRegistry",
                "com.bugsnag.Bugsnag")) {
            assertThat(present(absent)).as(absent).isFalse();
        }
    }

    @Test
    void the_fields_inline_interceptors_uses_are_registered() throws Exception {
        Set<Class<?>> targets = targets(NativeRegistrations.InlineInterceptorsFields.class);
        assertThat(targets).contains(io.moquette.broker.Server.class, io.moquette.interception.BrokerInterceptor.class);
        assertThat(io.moquette.broker.Server.class.getDeclaredField("interceptor").getType())
                .isEqualTo(io.moquette.interception.BrokerInterceptor.class);
        assertThat(io.moquette.interception.BrokerInterceptor.class.getDeclaredField("executor").getType())
                .isEqualTo(java.util.concurrent.ExecutorService.class);
        assertThat(NativeRegistrations.InlineInterceptorsFields.class.getAnnotation(RegisterForReflection.class).fields())
                .isTrue();
    }

    @Test
    void the_fields_the_broker_package_uses_exist_and_their_classes_are_registered() throws Exception {
        RegisterForReflection registration = NativeRegistrations.SessionQueuesFields.class.getAnnotation(RegisterForReflection.class);
        assertThat(registration.fields()).isTrue();
        assertThat(registration.classNames()).containsExactly(NativeRegistrations.SESSION_QUEUES_CLASSES);
        assertThat(io.moquette.broker.Server.class.getDeclaredField("dispatcher").getType().getName())
                .isEqualTo("io.moquette.broker.PostOffice");
        assertThat(io.moquette.broker.Server.class.getDeclaredField("sessions").getType())
                .isEqualTo(io.moquette.broker.SessionRegistry.class);
        Object[][] fields = {
            {"io.moquette.broker.PostOffice", "sessionLoops", "io.moquette.broker.SessionEventLoopGroup"},
            {"io.moquette.broker.PostOffice", "retainedRepository", "io.moquette.broker.IRetainedRepository"},
            {"io.moquette.broker.PostOffice", "subscriptions", "io.moquette.broker.subscriptions.ISubscriptionsDirectory"},
            {"io.moquette.broker.SessionEventLoopGroup", "sessionQueues", "[Ljava.util.concurrent.BlockingQueue;"},
            {"io.moquette.broker.SessionEventLoopGroup", "sessionExecutors", "[Lio.moquette.broker.SessionEventLoop;"},
            {"io.moquette.broker.Session", "subscriptions", "java.util.Set"},
            {"io.moquette.broker.SessionRegistry", "queueRepository", "io.moquette.broker.IQueueRepository"},
            {"io.moquette.broker.SessionRegistry", "pool", "java.util.concurrent.ConcurrentMap"},
            {"io.moquette.broker.SessionRegistry", "sessionsRepository", "io.moquette.broker.ISessionsRepository"},
            {"io.moquette.broker.SessionRegistry", "removableSessions", "java.util.concurrent.DelayQueue"},
            {"io.moquette.broker.Session", "sessionQueue", "io.moquette.broker.SessionMessageQueue"},
            {"io.moquette.broker.Session", "inflightWindow", "java.util.Map"},
            {"io.moquette.broker.Session", "mqttConnection", "io.moquette.broker.MQTTConnection"},
            {"io.moquette.broker.SessionRegistry", "globalExpirySeconds", "int"},
            {"io.moquette.persistence.H2PersistentQueue", "head", "java.util.concurrent.atomic.AtomicLong"},
            {"io.moquette.persistence.H2PersistentQueue", "tail", "java.util.concurrent.atomic.AtomicLong"},
            {"io.moquette.broker.subscriptions.CTrieSubscriptionDirectory", "subscriptionsRepository",
                "io.moquette.broker.ISubscriptionsRepository"},
        };
        assertThat(NativeRegistrations.GateFields.class.getAnnotation(RegisterForReflection.class).classNames())
                .containsExactly("io.moquette.broker.MQTTConnection");
        assertThat(Class.forName("io.moquette.broker.MQTTConnection").getDeclaredField("connected").getType()).isEqualTo(boolean.class);
        assertThat(Class.forName("io.moquette.broker.MQTTConnection").getDeclaredField("lastPacketId").getType())
                .isEqualTo(java.util.concurrent.atomic.AtomicInteger.class);
        assertThat(Thread.class).isAssignableFrom(Class.forName("io.moquette.broker.SessionEventLoop"));
        assertThat(Class.forName("io.moquette.broker.MQTTConnection").getDeclaredMethod("resendNotAckedPublishes")).isNotNull();
        assertThat(NativeRegistrations.GateFields.class.getAnnotation(RegisterForReflection.class).methods()).isTrue();
        for (Object[] f : fields) {
            assertThat(Class.forName((String) f[0]).getDeclaredField((String) f[1]).getType().getName()).as(f[0] + "." + f[1])
                    .isEqualTo(f[2]);
        }
    }

    @Test
    void the_methods_session_transfer_calls_exist_and_their_classes_are_registered() throws Exception {
        RegisterForReflection registration = NativeRegistrations.SessionTransferMethods.class.getAnnotation(RegisterForReflection.class);
        assertThat(registration.methods()).isTrue();
        assertThat(registration.classNames()).containsExactly("io.moquette.broker.Session", "io.moquette.broker.SessionRegistry",
                "io.moquette.broker.IQueueRepository");
        // loading the class resolves every constructor and method it uses, or fails
        assertThat(Class.forName("io.mqttkafkabridge.broker.SessionTransfer", true, getClass().getClassLoader())).isNotNull();
    }

    @Test
    void every_class_the_session_store_serializes_is_registered_for_serialization() throws IOException {
        RegisterForReflection registration = NativeRegistrations.SessionStoreSerialization.class
                .getAnnotation(RegisterForReflection.class);
        assertThat(registration.serialization()).isTrue();
        Set<Class<?>> registered = targets(NativeRegistrations.SessionStoreSerialization.class);

        Topic topic = new Topic("devices/d1/telemetry");
        Set<Class<?>> written = new LinkedHashSet<>();
        written.addAll(classesWritten(new Subscription("client-1", new Topic("devices/+/telemetry"), MqttQoS.AT_LEAST_ONCE)));
        written.addAll(classesWritten(new RetainedMessage(topic, MqttQoS.EXACTLY_ONCE, new byte[] {1, 2, 3})));
        written.addAll(classesWritten(topic));

        List<Class<?>> missing = new ArrayList<>();
        for (Class<?> type : written) {
            // java.lang.Enum is the JDK's own (MqttQoS's superclass descriptor); native-image registers it with MqttQoS
            if (!registered.contains(type) && type != Enum.class) {
                missing.add(type);
            }
        }
        assertThat(missing).as("serialized but not registered").isEmpty();
        assertThat(written).contains(Subscription.class, Topic.class, RetainedMessage.class, MqttQoS.class, byte[].class);
    }

    private static Set<Class<?>> classesWritten(Object value) throws IOException {
        Set<Class<?>> classes = new LinkedHashSet<>();
        try (ObjectOutputStream out = new ObjectOutputStream(new ByteArrayOutputStream()) {
            @Override
            protected void annotateClass(Class<?> type) {
                classes.add(type);
            }
        }) {
            out.writeObject(value);
        }
        return classes;
    }

    private static Set<Class<?>> targets(Class<?> registration) {
        return new LinkedHashSet<>(Arrays.asList(registration.getAnnotation(RegisterForReflection.class).targets()));
    }

    /** The class a substitution type stands for, or the type itself. */
    private static Class<?> targetOf(Class<?> type) {
        TargetClass target = type.getAnnotation(TargetClass.class);
        if (target == null) {
            return type;
        }
        try {
            return Class.forName(target.className(), false, NativeRegistrationsTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError("@TargetClass " + target.className() + " is not on the class path", e);
        }
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, NativeRegistrationsTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
