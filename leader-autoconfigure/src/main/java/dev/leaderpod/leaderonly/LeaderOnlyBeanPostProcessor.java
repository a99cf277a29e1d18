package dev.leaderpod.leaderonly;

import dev.leaderpod.annotation.LeaderOnly.OnFollower;
import dev.leaderpod.leaderonly.LeaderOnlyLeadershipListener.GatedLifecycle;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.FollowerValue;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.Gated;
import dev.leaderpod.leaderonly.LeaderOnlyMethods.Kind;
import dev.leaderpod.leaderonly.SelfInvocationScanner.Finding;
import dev.leaderpod.leaderonly.SelfInvocationScanner.Signature;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.TargetSource;
import org.springframework.aop.framework.Advised;
import org.springframework.aop.support.AopUtils;
import org.springframework.asm.Type;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.Lifecycle;
import org.springframework.core.Ordered;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Checks {@code @LeaderOnly} beans as they are created, so that a declaration that cannot work stops start-up
 * instead of failing at the first call, or worse, silently running on every replica:
 *
 * <ul>
 *   <li>a gated method returning a primitive (a follower has no value to return) unless {@code onFollower = THROW};
 *   <li>a gated method a proxy cannot intercept: private, static, or final on a class-proxied bean;
 *   <li>a bean with gated methods that did not get the {@code @LeaderOnly} proxy, because it was created before the
 *       AOP infrastructure (checked once all singletons exist);
 *   <li>a method that names an election no lease can be named after (checked by the elections themselves, once all
 *       singletons exist, or at once for a bean created later).
 * </ul>
 *
 * It warns about self-invocations it can see (see {@link SelfInvocationScanner}), remembers the gated lifecycle
 * beans for {@link LeaderOnlyLeadershipListener}, and makes every election an annotation names known before the
 * elections start, so that an election whose methods are never called (its lifecycle beans wait for its grant)
 * still runs.
 */
public final class LeaderOnlyBeanPostProcessor
        implements BeanPostProcessor, BeanFactoryAware, SmartInitializingSingleton, Ordered {

    private static final Logger log = LoggerFactory.getLogger(LeaderOnlyBeanPostProcessor.class);

    private final Map<Class<?>, Boolean> gatedClasses = new ConcurrentHashMap<>();
    private final Set<String> checkedClasses = ConcurrentHashMap.newKeySet();
    private final Set<Class<?>> scannedForSelfInvocation = ConcurrentHashMap.newKeySet();
    private final Set<String> processed = ConcurrentHashMap.newKeySet();
    private final List<GatedLifecycle> lifecycleBeans = new CopyOnWriteArrayList<>();
    private final Map<String, String> lifecycleElections = new ConcurrentHashMap<>();
    /**
     * Each election an annotation names and that is not yet known to the elections, with the first method naming it
     * (for the error if the name is refused).
     */
    private final Map<String, String> undeclaredElections = new ConcurrentHashMap<>();

    private final Function<String, ?> elections;
    private volatile boolean singletonsInstantiated;
    private ConfigurableListableBeanFactory beanFactory;

    /**
     * @param elections makes the election of a name known and returns it ({@code ""}: the default election); throws
     *     {@link IllegalArgumentException} saying why a name is refused. Asked only once all singletons exist, so the
     *     elections are not early beans.
     */
    public LeaderOnlyBeanPostProcessor(Function<String, ?> elections) {
        this.elections = elections;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beanFactory = (ConfigurableListableBeanFactory) beanFactory;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
        processed.add(beanName);
        Class<?> userClass = userClass(bean);
        if (!hasGatedMethods(userClass)) {
            return bean;
        }
        boolean classProxy = AopUtils.isCglibProxy(bean);
        if (checkedClasses.add(userClass.getName() + (classProxy ? "/class-proxy" : ""))) {
            checkDeclarations(beanName, userClass, classProxy);
        }
        warnAboutSelfInvocations(userClass);
        if (bean instanceof Lifecycle
                && LeaderOnlyMethods.isGatedLifecycle(userClass)
                && beanFactory.containsBeanDefinition(beanName)
                && beanFactory.getMergedBeanDefinition(beanName).isSingleton()) {
            lifecycleElections.put(beanName, LeaderOnlyMethods.typeLevelElection(userClass));
            lifecycleBeans.add(new GatedLifecycle(beanName, (Lifecycle) bean));
        }
        if (singletonsInstantiated && !undeclaredElections.isEmpty()) {
            declareElections();
        }
        return bean;
    }

    /** Fails for singletons that have gated methods but never went through the post-processors, so got no proxy. */
    @Override
    public void afterSingletonsInstantiated() {
        for (String name : beanFactory.getSingletonNames()) {
            if (processed.contains(name)) {
                continue;
            }
            Object bean = beanFactory.getSingleton(name);
            if (bean == null) {
                continue;
            }
            Class<?> userClass = userClass(bean);
            if (hasGatedMethods(userClass) && !isAdvisedByLeaderOnly(bean)) {
                throw new LeaderOnlyDeclarationException(
                        "bean '" + name + "' (" + userClass.getName() + ") has @LeaderOnly methods but is not"
                                + " proxied: it was created before the AOP infrastructure, typically because a"
                                + " BeanPostProcessor or BeanFactoryPostProcessor depends on it, so its methods would"
                                + " run on every replica.",
                        "Make sure no post-processor depends on '" + name + "' (Spring logs it as 'not eligible for"
                                + " getting processed by all BeanPostProcessors'), for example by injecting it"
                                + " lazily (@Lazy or ObjectProvider) or by declaring the post-processor's @Bean"
                                + " method static.");
            }
        }
        singletonsInstantiated = true;
        declareElections();
    }

    /** Makes every election named so far known to the elections, refusing a name no lease can be named after. */
    private void declareElections() {
        for (Map.Entry<String, String> declared : undeclaredElections.entrySet()) {
            try {
                elections.apply(declared.getKey());
                undeclaredElections.remove(declared.getKey());
            } catch (IllegalArgumentException e) {
                // The reason says what the name must be: "must be lower-case letters, …".
                throw new LeaderOnlyDeclarationException(
                        declared.getValue() + " names the election '" + declared.getKey()
                                + "', which is refused: its name " + e.getMessage() + ".",
                        e.getMessage().contains("LeaderElectionAutoConfiguration")
                                ? "Remove the name from @LeaderOnly(\"" + declared.getKey() + "\") to follow the"
                                        + " default election, or let LeaderElectionAutoConfiguration build the elector"
                                        + " (remove the application's own LeaseElector bean)."
                                : "Name the election with lower-case letters, digits and '-' only, starting and"
                                        + " ending with a letter or digit, short enough for its lease name to stay"
                                        + " within 253 characters, in @LeaderOnly(\"...\") on the method or its"
                                        + " class.");
            }
        }
    }

    /**
     * The gated lifecycle beans of the default election, in no particular order: as exposed by the context, or as this post-processor saw them
     * if the context no longer has them (it may be closing).
     */
    public List<GatedLifecycle> lifecycleBeans() {
        return lifecycleBeans("");
    }

    /** As {@link #lifecycleBeans()}, for the beans of one election ({@code ""}: the default one). */
    public List<GatedLifecycle> lifecycleBeans(String election) {
        List<GatedLifecycle> beans = new ArrayList<>();
        for (GatedLifecycle seen : lifecycleBeans) {
            if (!election.equals(lifecycleElections.get(seen.name()))) {
                continue;
            }
            Object exposed = beanFactory.getSingleton(seen.name());
            beans.add(exposed instanceof Lifecycle lifecycle ? new GatedLifecycle(seen.name(), lifecycle) : seen);
        }
        return beans;
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE; // after the auto-proxy creator
    }

    private boolean hasGatedMethods(Class<?> userClass) {
        return gatedClasses.computeIfAbsent(userClass, LeaderOnlyMethods::hasGatedMethods);
    }

    private void checkDeclarations(String beanName, Class<?> userClass, boolean classProxy) {
        for (Method method : candidateMethods(userClass)) {
            Gated gated = LeaderOnlyMethods.resolve(method, userClass).orElse(null);
            if (gated == null || gated.kind() != Kind.GATED) {
                continue;
            }
            Method specific = gated.method();
            int modifiers = specific.getModifiers();
            String where = "method " + gated.describe() + " of bean '" + beanName + "'";
            undeclaredElections.putIfAbsent(gated.election(), where);
            if (Modifier.isPrivate(modifiers) || Modifier.isStatic(modifiers)) {
                throw new LeaderOnlyDeclarationException(
                        where + " is " + (Modifier.isPrivate(modifiers) ? "private" : "static")
                                + ": a Spring proxy cannot intercept it, so it would never be gated.",
                        "Make the method a non-private instance method called through the bean, or check"
                                + " Leadership.isLeader() inside it.");
            }
            if (classProxy && Modifier.isFinal(modifiers)) {
                throw new LeaderOnlyDeclarationException(
                        where + " is final: the class-based (CGLIB) proxy cannot override it, so it would never be"
                                + " gated.",
                        "Remove 'final' from the method (or from its class).");
            }
            if (gated.followerValue() == FollowerValue.NONE && gated.onFollower() != OnFollower.THROW) {
                String type = specific.getReturnType().getName();
                throw new LeaderOnlyDeclarationException(
                        where + " returns the primitive type " + type + ", but a call skipped on a follower has no "
                                + type + " to return.",
                        "Return void, "
                                + ClassUtils.resolvePrimitiveIfNecessary(specific.getReturnType())
                                        .getSimpleName()
                                + " (null on followers), Optional or CompletableFuture instead, or declare"
                                + " @LeaderOnly(onFollower = THROW) on the method to make followers throw"
                                + " NotLeaderException.");
            }
        }
    }

    private void warnAboutSelfInvocations(Class<?> userClass) {
        if (!scannedForSelfInvocation.add(userClass)) {
            return;
        }
        Map<Signature, Method> gated = new LinkedHashMap<>();
        for (Method method : candidateMethods(userClass)) {
            LeaderOnlyMethods.resolve(method, userClass)
                    .filter(resolved -> resolved.kind() == Kind.GATED)
                    .ifPresent(resolved -> gated.put(signature(resolved.method()), resolved.method()));
        }
        List<Finding> findings =
                SelfInvocationScanner.scan(userClass, gated.keySet(), signature -> describe(userClass, signature));
        for (Finding finding : findings) {
            log.warn(
                    "{} {} @LeaderOnly method {} on 'this': {} the Spring proxy, so the call runs with no leadership"
                            + " check on every replica. Call it through the proxy (inject the bean into itself with"
                            + " @Lazy, or move the method to another bean), annotate the caller, or check"
                            + " Leadership.isLeader() in it.",
                    finding.caller(),
                    finding.methodReference() ? "takes a method reference to" : "calls",
                    finding.callee(),
                    finding.methodReference() ? "calls through it bypass" : "such a call bypasses");
        }
    }

    /**
     * Methods a proxy could be asked to run, declared in the class hierarchy or its interfaces, and the static ones
     * of both: those are checked so that a {@code @LeaderOnly} one is refused, not silently left ungated.
     */
    private static List<Method> candidateMethods(Class<?> userClass) {
        List<Method> methods = new ArrayList<>(Arrays.asList(ReflectionUtils.getUniqueDeclaredMethods(
                userClass,
                method -> !method.isBridge() && !method.isSynthetic() && method.getDeclaringClass() != Object.class)));
        for (Class<?> type : ClassUtils.getAllInterfacesForClassAsSet(userClass)) {
            // getMethods() of an interface includes its static methods, which the class hierarchy does not list.
            for (Method method : type.getMethods()) {
                if (!method.isSynthetic()) {
                    methods.add(method);
                }
            }
        }
        return methods;
    }

    private static Signature signature(Method method) {
        return new Signature(method.getName(), Type.getMethodDescriptor(method));
    }

    private static String describe(Class<?> userClass, Signature signature) {
        String parameters = Arrays.stream(Type.getArgumentTypes(signature.descriptor()))
                .map(type -> {
                    String name = type.getClassName();
                    return name.substring(name.lastIndexOf('.') + 1);
                })
                .collect(Collectors.joining(", "));
        String name = signature.name().equals("<init>") ? "<constructor>" : signature.name();
        return userClass.getName() + "." + name + "(" + parameters + ")";
    }

    private static Class<?> userClass(Object bean) {
        return ClassUtils.getUserClass(AopUtils.getTargetClass(bean));
    }

    private static boolean isAdvisedByLeaderOnly(Object bean) {
        Object current = bean;
        for (int depth = 0; depth < 4 && current instanceof Advised advised; depth++) {
            if (Arrays.stream(advised.getAdvisors()).anyMatch(LeaderOnlyAdvisor.class::isInstance)) {
                return true;
            }
            TargetSource source = advised.getTargetSource();
            if (!source.isStatic()) {
                return false;
            }
            try {
                current = source.getTarget();
            } catch (Exception e) {
                return false;
            }
        }
        return false;
    }
}
