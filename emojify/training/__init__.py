"""Training-side code: data loading, the CNN, training and int8 quantization.

Only this sub-package imports TensorFlow/Keras, and only inside the functions that need it.
The runtime package never imports anything from here.
"""
