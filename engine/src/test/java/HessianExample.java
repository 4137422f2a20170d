import io.hvp4j.api.Session;
import io.hvp4j.autodiff.Curvature;

/** LeNet-5 on random data: one Hessian-vector product and the top Hessian eigenvalue of its conv1 block. */
public class HessianExample {
    public static void main(String[] args) {
        try (Session s = Session.builder().model("lenet5").gaussianData(32).open()) {
            double[] v = new double[s.parameterCount()];
            v[0] = 1;                                                  // H·e_0, the first column of H
            double[] hv = s.hvp(v);
            double top = s.topEigenvalues(Curvature.HESSIAN, s.group("conv1"), 1)[0];
            System.out.printf("P=%d loss=%.6f Hv[0]=%.6e top eigenvalue of H(conv1)=%.6e%n",
                    s.parameterCount(), s.loss(), hv[0], top);
        }
    }
}
